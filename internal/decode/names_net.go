package decode

// Address families, include/linux/socket.h.
var sockFamilies = []string{
	"AF_UNSPEC", "AF_UNIX", "AF_INET", "AF_AX25", "AF_IPX", "AF_APPLETALK", "AF_NETROM",
	"AF_BRIDGE", "AF_ATMPVC", "AF_X25", "AF_INET6", "AF_ROSE", "AF_DECnet", "AF_NETBEUI",
	"AF_SECURITY", "AF_KEY", "AF_NETLINK", "AF_PACKET", "AF_ASH", "AF_ECONET", "AF_ATMSVC",
	"AF_RDS", "AF_SNA", "AF_IRDA", "AF_PPPOX", "AF_WANPIPE", "AF_LLC", "AF_IB", "AF_MPLS",
	"AF_CAN", "AF_TIPC", "AF_BLUETOOTH", "AF_IUCV", "AF_RXRPC", "AF_ISDN", "AF_PHONET",
	"AF_IEEE802154", "AF_CAIF", "AF_ALG", "AF_NFC", "AF_VSOCK", "AF_KCM", "AF_QIPCRTR",
	"AF_SMC", "AF_XDP", "AF_MCTP",
}

// Address family numbers the ABI decoders read.
const (
	afUnix    = 1
	afInet    = 2
	afInet6   = 10
	afNetlink = 16
)

var ipProtos = []sym{
	{0, "IPPROTO_IP"}, {1, "IPPROTO_ICMP"}, {2, "IPPROTO_IGMP"}, {6, "IPPROTO_TCP"}, {17, "IPPROTO_UDP"},
	{41, "IPPROTO_IPV6"}, {58, "IPPROTO_ICMPV6"}, {132, "IPPROTO_SCTP"}, {136, "IPPROTO_UDPLITE"},
	{255, "IPPROTO_RAW"}, {262, "IPPROTO_MPTCP"},
}

// IPProto names an internet protocol number (socket's third argument for AF_INET/AF_INET6).
func IPProto(v uint64) string {
	return nameEnum(uint64(uint32(v)), ipProtos)
}

// SockFamily names an address family.
func SockFamily(v uint64) string {
	return nameIndexed(uint64(uint32(v)), sockFamilies)
}

var (
	sockTypes = []sym{
		{1, "SOCK_STREAM"},
		{2, "SOCK_DGRAM"},
		{3, "SOCK_RAW"},
		{4, "SOCK_RDM"},
		{5, "SOCK_SEQPACKET"},
		{6, "SOCK_DCCP"},
		{10, "SOCK_PACKET"},
	}
	// SOCK_CLOEXEC and SOCK_NONBLOCK are O_CLOEXEC and O_NONBLOCK, equal on amd64 and arm64.
	sockFlags = []sym{{0x80000, "SOCK_CLOEXEC"}, {0x800, "SOCK_NONBLOCK"}}
)

// SockType formats socket's type argument: the type (low 4 bits), then SOCK_CLOEXEC and
// SOCK_NONBLOCK.
func SockType(v uint64) string {
	v = uint64(uint32(v))
	var j joiner
	j.add(nameEnum(v&0xf, sockTypes))
	if rest := j.addFlags(v&^0xf, sockFlags); rest != 0 {
		j.addHex(rest)
	}
	return j.String()
}

// SockFlags formats accept4's flags.
func SockFlags(v uint64) string {
	return nameFlags(uint64(uint32(v)), sockFlags, "0")
}

var epollOps = []string{1: "EPOLL_CTL_ADD", 2: "EPOLL_CTL_DEL", 3: "EPOLL_CTL_MOD"}

// EpollOp names an epoll_ctl operation.
func EpollOp(v uint64) string {
	return nameIndexed(uint64(uint32(v)), epollOps)
}

// EPOLL* event bits, include/uapi/linux/eventpoll.h, in strace's (value) order.
var epollEvents = []sym{
	{0x1, "EPOLLIN"},
	{0x2, "EPOLLPRI"},
	{0x4, "EPOLLOUT"},
	{0x8, "EPOLLERR"},
	{0x10, "EPOLLHUP"},
	{0x20, "EPOLLNVAL"},
	{0x40, "EPOLLRDNORM"},
	{0x80, "EPOLLRDBAND"},
	{0x100, "EPOLLWRNORM"},
	{0x200, "EPOLLWRBAND"},
	{0x400, "EPOLLMSG"},
	{0x2000, "EPOLLRDHUP"},
	{0x10000000, "EPOLLEXCLUSIVE"},
	{0x20000000, "EPOLLWAKEUP"},
	{0x40000000, "EPOLLONESHOT"},
	{0x80000000, "EPOLLET"},
}

// EpollEvents formats an epoll_event's event mask.
func EpollEvents(v uint32) string {
	return nameFlags(uint64(v), epollEvents, "0")
}

var epollCreateFlags = []sym{{0x80000, "EPOLL_CLOEXEC"}}

// EpollCreateFlags formats epoll_create1's flags.
func EpollCreateFlags(v uint64) string {
	return nameFlags(uint64(uint32(v)), epollCreateFlags, "0")
}

// POLL* bits, asm-generic/poll.h (amd64 and arm64 agree).
var pollEvents = []sym{
	{0x1, "POLLIN"},
	{0x2, "POLLPRI"},
	{0x4, "POLLOUT"},
	{0x8, "POLLERR"},
	{0x10, "POLLHUP"},
	{0x20, "POLLNVAL"},
	{0x40, "POLLRDNORM"},
	{0x80, "POLLRDBAND"},
	{0x100, "POLLWRNORM"},
	{0x200, "POLLWRBAND"},
	{0x400, "POLLMSG"},
	{0x1000, "POLLREMOVE"},
	{0x2000, "POLLRDHUP"},
	{0x8000, "POLL_BUSY_LOOP"},
}

// PollEvents formats a pollfd's events or revents (also io_uring's poll32_events).
func PollEvents(v uint32) string {
	return nameFlags(uint64(v), pollEvents, "0")
}
