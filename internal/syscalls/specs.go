package syscalls

// Struct sizes the captures copy. Only struct epoll_event differs between the two arches:
// x86_64 packs it (12 bytes), arm64 pads it (16).
const (
	sockaddrMax     = 112 // sizeof(struct sockaddr_un) rounded up; the decoder trims by addrlen
	openHowSize     = 24
	iocbSize        = 64
	ioEventSize     = 32
	uringParamsSize = 120
	pollfdSize      = 8
	statPrefix      = 56 // struct stat up to st_size, on both arches (offset 48, 8 bytes)
	sigactionSize   = 32 // the kernel's: handler, flags, restorer, mask (x86_64 and arm64 alike)
)

// EpollEventSize is sizeof(struct epoll_event) on arch.
func EpollEventSize(arch string) int {
	if arch == "amd64" {
		return 12
	}
	return 16
}

func atEntry(kind CaptureKind, arg int, ls LenSource, lenArg, size int) Capture {
	return Capture{Kind: kind, Arg: arg, Len: ls, LenArg: lenArg, Size: size}
}

func atExit(kind CaptureKind, arg int, ls LenSource, lenArg, size int) Capture {
	return Capture{Kind: kind, AtExit: true, Arg: arg, Len: ls, LenArg: lenArg, Size: size}
}

// input is what a call is given (a write's buffer, a sockaddr to connect to), read as the call
// returns: one record per call instead of two, and by then the kernel has touched the pages — at
// entry a page not faulted in yet cannot be read from BPF. (A buffer another thread changes
// while the call runs shows as it was at the end.)
func input(kind CaptureKind, arg int, ls LenSource, lenArg, size int) Capture {
	c := atExit(kind, arg, ls, lenArg, size)
	c.Input = true
	return c
}

var (
	// Paths are read at exit: at entry the page holding the string may not be resident yet
	// (after a fork, or never touched), and BPF cannot fault it in; the kernel has by the exit.
	pathAt = func(arg int) Capture { return atExit(CapStr, arg, LenNone, 0, 0) }
	// execve's are read at entry: at exit the old address space is gone.
	execPath = func(arg int) Capture { return atEntry(CapStr, arg, LenNone, 0, 0) }
	// fileOf reads the inode and size behind a descriptor when the call returns.
	fileOf  = func(arg int) Capture { return atExit(CapFDInfo, arg, LenNone, 0, 0) }
	dataIn  = func(arg, lenArg int) Capture { return input(CapBuf, arg, LenArg, lenArg, 0) }
	dataOut = func(arg int) Capture { return atExit(CapBuf, arg, LenRet, 0, 0) }
	iovIn   = input(CapIOV, 1, LenArg, 2, 0)
	iovOut  = atExit(CapIOV, 1, LenArg, 2, 0) // count from vlen; the BPF side limits bytes by ret
	addrIn  = func(arg int) Capture { return input(CapStruct, arg, LenFixed, 0, sockaddrMax) }
	addrOut = func(arg int) Capture { return atExit(CapStruct, arg, LenFixed, 0, sockaddrMax) }
	// statOut reads the start of struct stat, up to st_size (and st_rdev before it) on both
	// arches: what strace shows without -v
	statOut  = func(arg int) Capture { return atExit(CapStruct, arg, LenFixed, 0, statPrefix) }
	lenOut   = func(arg int) Capture { return atExit(CapStruct, arg, LenFixed, 0, 4) }
	pipeOut  = func(arg int) Capture { return atExit(CapFDPair, arg, LenNone, 0, 0) }
	aioCtx   = atExit(CapStruct, 1, LenFixed, 0, 8)
	iocbsIn  = input(CapPtrArr, 2, LenArg, 1, iocbSize)
	ioEvents = atExit(CapArray, 3, LenRet, 0, ioEventSize)
	paramsIO = atExit(CapStruct, 1, LenFixed, 0, uringParamsSize)
	pollOut  = atExit(CapArray, 0, LenArg, 1, pollfdSize)
	// wait4's status, filled in when it returns a child
	waitStatus = atExit(CapStruct, 1, LenFixed, 0, 4)
)

type argTypes = map[int]ArgType

// specs is keyed by tracepoint name. Arguments not listed are shown as integers; sizes that
// depend on the arch are filled in by SpecFor.
var specs = map[string]Spec{
	"read":     {Args: argTypes{0: FD, 1: Buf, 2: Uint}, Captures: []Capture{dataOut(1)}},
	"write":    {Args: argTypes{0: FD, 1: Buf, 2: Uint}, Captures: []Capture{dataIn(1, 2)}},
	"pread64":  {Args: argTypes{0: FD, 1: Buf, 2: Uint, 3: Int}, Captures: []Capture{dataOut(1)}},
	"pwrite64": {Args: argTypes{0: FD, 1: Buf, 2: Uint, 3: Int}, Captures: []Capture{dataIn(1, 2)}},
	"readv":    {Args: argTypes{0: FD, 1: IOV, 2: Int}, Captures: []Capture{iovOut}},
	"writev":   {Args: argTypes{0: FD, 1: IOV, 2: Int}, Captures: []Capture{iovIn}},
	"preadv":   {Args: argTypes{0: FD, 1: IOV, 2: Int, 3: Int, 4: Omit}, Captures: []Capture{iovOut}},
	"pwritev":  {Args: argTypes{0: FD, 1: IOV, 2: Int, 3: Int, 4: Omit}, Captures: []Capture{iovIn}},
	"preadv2":  {Args: argTypes{0: FD, 1: IOV, 2: Int, 3: Int, 4: Omit, 5: RWFFlags}, Captures: []Capture{iovOut}},
	"pwritev2": {Args: argTypes{0: FD, 1: IOV, 2: Int, 3: Int, 4: Omit, 5: RWFFlags}, Captures: []Capture{iovIn}},
	"sendto":   {Args: argTypes{0: FD, 1: Buf, 2: Uint, 3: MsgFlags, 4: SockAddr, 5: Uint}, Captures: []Capture{dataIn(1, 2)}},
	"recvfrom": {Args: argTypes{0: FD, 1: Buf, 2: Uint, 3: MsgFlags, 4: SockAddr, 5: Hex}, Captures: []Capture{dataOut(1)}},

	"open":       {Args: argTypes{0: Path, 1: OpenFlags, 2: Octal}, Captures: []Capture{pathAt(0), fileOf(RetArg)}},
	"creat":      {Args: argTypes{0: Path, 1: Octal}, Captures: []Capture{pathAt(0), fileOf(RetArg)}},
	"openat":     {Args: argTypes{0: DirFD, 1: Path, 2: OpenFlags, 3: Octal}, Captures: []Capture{pathAt(1), fileOf(RetArg)}},
	"openat2":    {Args: argTypes{0: DirFD, 1: Path, 2: OpenHow, 3: Uint}, Captures: []Capture{pathAt(1), input(CapStruct, 2, LenFixed, 0, openHowSize)}},
	"close":      {Args: argTypes{0: FD}},
	"lseek":      {Args: argTypes{0: FD, 1: Int, 2: Whence}},
	"pipe":       {Args: argTypes{0: PipeFDs}, Captures: []Capture{pipeOut(0)}},
	"pipe2":      {Args: argTypes{0: PipeFDs, 1: PipeFlags}, Captures: []Capture{pipeOut(0)}},
	"dup":        {Args: argTypes{0: FD}},
	"dup2":       {Args: argTypes{0: FD, 1: FD}},
	"dup3":       {Args: argTypes{0: FD, 1: FD, 2: Dup3Flags}},
	"fcntl":      {Args: argTypes{0: FD, 1: FcntlCmd, 2: FcntlArg}},
	"ftruncate":  {Args: argTypes{0: FD, 1: Int}},
	"fsync":      {Args: argTypes{0: FD}, Captures: []Capture{fileOf(0)}},
	"fdatasync":  {Args: argTypes{0: FD}, Captures: []Capture{fileOf(0)}},
	"ioctl":      {Args: argTypes{0: FD, 1: Hex, 2: Hex}},
	"newfstat":   {Args: argTypes{0: FD, 1: Stat}, Captures: []Capture{statOut(1)}},
	"getdents64": {Args: argTypes{0: FD, 1: Hex, 2: Uint}},
	"newfstatat": {Args: argTypes{0: DirFD, 1: Path, 2: Stat, 3: AtFlags}, Captures: []Capture{pathAt(1), statOut(2)}},
	"newstat":    {Args: argTypes{0: Path, 1: Stat}, Captures: []Capture{pathAt(0), statOut(1)}},
	"newlstat":   {Args: argTypes{0: Path, 1: Stat}, Captures: []Capture{pathAt(0), statOut(1)}},
	"statx":      {Args: argTypes{0: DirFD, 1: Path, 2: AtFlags, 3: Hex, 4: Hex}, Captures: []Capture{pathAt(1)}},
	"access":     {Args: argTypes{0: Path, 1: AccessMode}, Captures: []Capture{pathAt(0)}},
	"faccessat":  {Args: argTypes{0: DirFD, 1: Path, 2: AccessMode}, Captures: []Capture{pathAt(1)}},
	"faccessat2": {Args: argTypes{0: DirFD, 1: Path, 2: AccessMode, 3: AtFlags}, Captures: []Capture{pathAt(1)}},
	"unlink":     {Args: argTypes{0: Path}, Captures: []Capture{pathAt(0)}},
	"unlinkat":   {Args: argTypes{0: DirFD, 1: Path, 2: AtFlags}, Captures: []Capture{pathAt(1)}},
	"mkdir":      {Args: argTypes{0: Path, 1: Octal}, Captures: []Capture{pathAt(0)}},
	"mkdirat":    {Args: argTypes{0: DirFD, 1: Path, 2: Octal}, Captures: []Capture{pathAt(1)}},
	"chdir":      {Args: argTypes{0: Path}, Captures: []Capture{pathAt(0)}},
	"readlink":   {Args: argTypes{0: Path, 1: Buf, 2: Uint}, Captures: []Capture{pathAt(0), dataOut(1)}},
	"readlinkat": {Args: argTypes{0: DirFD, 1: Path, 2: Hex, 3: Uint}, Captures: []Capture{pathAt(1)}},
	"rename":     {Args: argTypes{0: Path, 1: Path}, Captures: []Capture{pathAt(0), pathAt(1)}},
	"renameat":   {Args: argTypes{0: DirFD, 1: Path, 2: DirFD, 3: Path}, Captures: []Capture{pathAt(1), pathAt(3)}},
	"renameat2":  {Args: argTypes{0: DirFD, 1: Path, 2: DirFD, 3: Path, 4: Hex}, Captures: []Capture{pathAt(1), pathAt(3)}},

	"socket":      {Args: argTypes{0: SockFamily, 1: SockType, 2: SockProto}, Captures: []Capture{fileOf(RetArg)}},
	"socketpair":  {Args: argTypes{0: SockFamily, 1: SockType, 2: SockProto, 3: PipeFDs}, Captures: []Capture{pipeOut(3)}},
	"connect":     {Args: argTypes{0: FD, 1: SockAddr, 2: Uint}, Captures: []Capture{addrIn(1)}},
	"bind":        {Args: argTypes{0: FD, 1: SockAddr, 2: Uint}, Captures: []Capture{addrIn(1)}},
	"accept":      {Args: argTypes{0: FD, 1: SockAddr, 2: Hex}, Captures: []Capture{addrOut(1), fileOf(RetArg)}},
	"accept4":     {Args: argTypes{0: FD, 1: SockAddr, 2: Hex, 3: SockFlags}, Captures: []Capture{addrOut(1), fileOf(RetArg)}},
	"listen":      {Args: argTypes{0: FD, 1: Int}},
	"getsockname": {Args: argTypes{0: FD, 1: SockAddr, 2: IntPtr}, Captures: []Capture{addrOut(1), lenOut(2)}},
	"getpeername": {Args: argTypes{0: FD, 1: SockAddr, 2: IntPtr}, Captures: []Capture{addrOut(1), lenOut(2)}},
	"shutdown":    {Args: argTypes{0: FD, 1: Int}},
	"setsockopt":  {Args: argTypes{0: FD, 3: Hex}},
	"getsockopt":  {Args: argTypes{0: FD, 3: Hex, 4: Hex}},

	"epoll_create":  {Args: argTypes{0: Int}},
	"epoll_create1": {Args: argTypes{0: EpollFlags}},
	"epoll_ctl":     {Args: argTypes{0: FD, 1: EpollOp, 2: FD, 3: EpollEvent}, Captures: []Capture{input(CapStruct, 3, LenFixed, 0, 0)}},
	"epoll_wait":    {Args: argTypes{0: FD, 1: EpollEvents, 2: Int32, 3: Int32}, Captures: []Capture{atExit(CapArray, 1, LenRet, 0, 0)}},
	"epoll_pwait":   {Args: argTypes{0: FD, 1: EpollEvents, 2: Int32, 3: Int32, 4: Hex, 5: Uint}, Captures: []Capture{atExit(CapArray, 1, LenRet, 0, 0)}},
	"epoll_pwait2":  {Args: argTypes{0: FD, 1: EpollEvents, 2: Int, 3: Hex, 4: Hex, 5: Uint}, Captures: []Capture{atExit(CapArray, 1, LenRet, 0, 0)}},
	"poll":          {Args: argTypes{0: PollFDs, 1: Uint, 2: Int32}, Captures: []Capture{pollOut}},
	"ppoll":         {Args: argTypes{0: PollFDs, 1: Uint, 2: Hex, 3: Hex, 4: Uint}, Captures: []Capture{pollOut}},

	"mmap":     {Args: argTypes{0: Hex, 1: Uint, 2: MmapProt, 3: MmapFlags, 4: FD, 5: Offset}, Captures: []Capture{fileOf(4)}, RetHex: true},
	"munmap":   {Args: argTypes{0: Hex, 1: Uint}},
	"mremap":   {Args: argTypes{0: Hex, 1: Uint, 2: Uint, 3: MremapFlags, 4: Hex}, RetHex: true},
	"mprotect": {Args: argTypes{0: Hex, 1: Uint, 2: MmapProt}},
	"msync":    {Args: argTypes{0: Hex, 1: Uint, 2: MsyncFlags}},
	"madvise":  {Args: argTypes{0: Hex, 1: Uint, 2: Madvise}},
	"mincore":  {Args: argTypes{0: Hex, 1: Uint, 2: Hex}},
	"brk":      {Args: argTypes{0: Hex}, RetHex: true},

	"fadvise64":       {Args: argTypes{0: FD, 1: Int, 2: Uint, 3: Fadvise}, Captures: []Capture{fileOf(0)}},
	"fadvise64_64":    {Args: argTypes{0: FD, 1: Int, 2: Uint, 3: Fadvise}, Captures: []Capture{fileOf(0)}}, // arm64
	"readahead":       {Args: argTypes{0: FD, 1: Int, 2: Uint}},
	"sync_file_range": {Args: argTypes{0: FD, 1: Int, 2: Int, 3: Hex}},

	"io_setup":          {Args: argTypes{0: Uint, 1: AIOContext}, Captures: []Capture{aioCtx}},
	"io_destroy":        {Args: argTypes{0: Hex}},
	"io_submit":         {Args: argTypes{0: Hex, 1: Int, 2: IOCBs}, Captures: []Capture{iocbsIn}},
	"io_getevents":      {Args: argTypes{0: Hex, 1: Int, 2: Int, 3: IOEvents, 4: Hex}, Captures: []Capture{ioEvents}},
	"io_pgetevents":     {Args: argTypes{0: Hex, 1: Int, 2: Int, 3: IOEvents, 4: Hex, 5: Hex}, Captures: []Capture{ioEvents}},
	"io_cancel":         {Args: argTypes{0: Hex, 1: Hex, 2: Hex}},
	"io_uring_setup":    {Args: argTypes{0: Uint, 1: UringParams}, Captures: []Capture{paramsIO}},
	"io_uring_enter":    {Args: argTypes{0: FD, 1: Uint, 2: Uint, 3: UringEnterFlags, 4: Hex, 5: Uint}},
	"io_uring_register": {Args: argTypes{0: FD, 1: UringRegisterOp, 2: Hex, 3: Uint}},

	"execve":          {Args: argTypes{0: Path, 1: Argv, 2: Envp}, Captures: []Capture{execPath(0), atEntry(CapArgv, 1, LenNone, 0, 0)}},
	"execveat":        {Args: argTypes{0: DirFD, 1: Path, 2: Argv, 3: Envp, 4: AtFlags}, Captures: []Capture{execPath(1), atEntry(CapArgv, 2, LenNone, 0, 0)}},
	"exit":            {Args: argTypes{0: Int}, NoReturn: true},
	"exit_group":      {Args: argTypes{0: Int}, NoReturn: true},
	"clone":           {Args: argTypes{0: CloneFlags, 1: Hex, 2: Hex, 3: Hex, 4: Hex}},
	"clone3":          {Args: argTypes{0: Hex, 1: Uint}},
	"kill":            {Args: argTypes{0: Int32, 1: Signal}},
	"set_tid_address": {Args: argTypes{0: Hex}},
	"getrandom":       {Args: argTypes{0: BufHex, 1: Uint, 2: GrndFlags}, Captures: []Capture{dataOut(0)}},
	"set_robust_list": {Args: argTypes{0: Hex, 1: Uint}},
	"arch_prctl":      {Args: argTypes{0: ArchPrctl, 1: Hex}},
	"rseq":            {Args: argTypes{0: Hex, 1: HexInt, 2: Int, 3: HexInt}},
	"prlimit64": {Args: argTypes{0: Int32, 1: RlimitResource, 2: Rlimit, 3: Rlimit},
		Captures: []Capture{input(CapStruct, 2, LenFixed, 0, 16), atExit(CapStruct, 3, LenFixed, 0, 16)}},
	"tgkill": {Args: argTypes{0: Int32, 1: Int32, 2: Signal}},
	"tkill":  {Args: argTypes{0: Int, 1: Signal}},
	"rt_sigaction": {Args: argTypes{0: Signal, 1: SigAction, 2: SigAction, 3: Uint},
		Captures: []Capture{input(CapStruct, 1, LenFixed, 0, sigactionSize), atExit(CapStruct, 2, LenFixed, 0, sigactionSize)}},
	"rt_sigprocmask": {Args: argTypes{0: SigHow, 1: SigSet, 2: SigSet, 3: Uint},
		Captures: []Capture{input(CapStruct, 1, LenFixed, 0, 8), atExit(CapStruct, 2, LenFixed, 0, 8)}},
	"prctl":           {Args: argTypes{0: PrctlOption, 1: PrctlArg}, Captures: []Capture{pathAt(1)}},
	"wait4":           {Args: argTypes{0: Int32, 1: WaitStatus, 2: WaitOptions, 3: Hex}, Captures: []Capture{waitStatus}},
	"sendfile64":      {Args: argTypes{0: FD, 1: FD, 2: Hex, 3: Uint}},
	"splice":          {Args: argTypes{0: FD, 1: Hex, 2: FD, 3: Hex, 4: Uint, 5: Hex}},
	"copy_file_range": {Args: argTypes{0: FD, 1: Hex, 2: FD, 3: Hex, 4: Uint, 5: Hex}},
}

// ModelSyscalls change what the annotator's model holds (descriptors, the working directory,
// the marker of a workload's start): they are traced even when -e hides them, so a descriptor is
// named by what it refers to whatever the filter shows.
var ModelSyscalls = []string{
	"open", "openat", "openat2", "creat", "close", "close_range", "dup", "dup2", "dup3", "fcntl",
	"pipe", "pipe2", "socket", "socketpair", "accept", "accept4", "connect", "bind", "epoll_create",
	"epoll_create1", "io_uring_setup", "eventfd2", "execve", "execveat", "chdir", "prctl",
	// mappings, and the calls that write pages back or set a file's readahead mode
	"mmap", "munmap", "fsync", "fdatasync", "sync", "syncfs", "msync", "sync_file_range",
	"fadvise64", "fadvise64_64",
}

// ChangesModel reports whether a call changes what the annotator models of its process — the
// descriptors, the working directory, mappings, epoll interest lists, AIO contexts: a lost one
// leaves that model in doubt. The BPF side counts such losses per process.
func ChangesModel(name string) bool {
	return modelChanging[name]
}

var modelChanging = func() map[string]bool {
	m := map[string]bool{}
	for _, n := range ModelSyscalls {
		m[n] = true
	}
	for _, n := range []string{"epoll_ctl", "io_setup", "io_destroy", "mmap", "munmap", "mremap", "io_uring_register"} {
		m[n] = true
	}
	return m
}()

// SpecFor returns what is known of syscall name on arch (nil when nothing is: all arguments are
// shown as integers). Arch-dependent struct sizes are filled in. The result is shared: read it,
// don't change it.
func SpecFor(arch, name string) *Spec {
	return specsByArch[GoArch(arch)][name]
}

// specsByArch holds each arch's table, built once: the decoder, the annotator and the renderers
// look a spec up for every call.
var specsByArch = map[string]map[string]*Spec{"amd64": archSpecs("amd64"), "arm64": archSpecs("arm64")}

func archSpecs(arch string) map[string]*Spec {
	m := make(map[string]*Spec, len(specs))
	for name, s := range specs {
		caps := make([]Capture, len(s.Captures))
		copy(caps, s.Captures)
		for i := range caps {
			if t := s.Args[caps[i].Arg]; t == EpollEvent || t == EpollEvents {
				caps[i].Size = EpollEventSize(arch)
				if caps[i].Kind == CapStruct {
					caps[i].Len = LenFixed
				}
			}
		}
		s.Captures = caps
		m[name] = &s
	}
	return m
}

// ArgType returns the type of argument i of s (Int when s is nil or says nothing).
func (s *Spec) ArgType(i int) ArgType {
	if s == nil {
		return Int
	}
	return s.Args[i]
}
