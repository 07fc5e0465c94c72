package syscalls

// ArgType says what a syscall argument means, so the decoder and the text renderer can show it
// the way strace would. Arguments without an entry in a Spec are plain integers.
type ArgType uint8

const (
	Int             ArgType = iota // signed decimal
	Uint                           // unsigned decimal
	Hex                            // pointer or opaque value, 0x… (NULL for 0)
	Octal                          // file mode
	FD                             // descriptor: 3</tmp/x>
	DirFD                          // like FD, AT_FDCWD by name
	Path                           // NUL-terminated string behind a pointer
	Buf                            // bytes behind a pointer (read/write data)
	IOV                            // struct iovec array
	OpenFlags                      // O_*
	OpenHow                        // struct open_how (openat2)
	AtFlags                        // AT_*
	MmapProt                       // PROT_*
	MmapFlags                      // MAP_*
	MremapFlags                    // MREMAP_*
	MsyncFlags                     // MS_*
	Madvise                        // MADV_*
	Fadvise                        // POSIX_FADV_*
	Whence                         // SEEK_*
	FcntlCmd                       // F_*
	FcntlArg                       // depends on the command: FD_CLOEXEC, O_* or a descriptor number
	EpollOp                        // EPOLL_CTL_*
	EpollEvent                     // struct epoll_event (epoll_ctl)
	EpollEvents                    // struct epoll_event array filled by the kernel (epoll_wait)
	EpollFlags                     // EPOLL_CLOEXEC
	PipeFDs                        // int[2] filled by the kernel
	PipeFlags                      // O_CLOEXEC|O_NONBLOCK|O_DIRECT
	Dup3Flags                      // O_CLOEXEC
	RWFFlags                       // RWF_* (preadv2/pwritev2)
	SockFamily                     // AF_*
	SockType                       // SOCK_* with SOCK_NONBLOCK|SOCK_CLOEXEC
	SockProto                      // IPPROTO_* for AF_INET and AF_INET6 (the first argument), else a number
	SockAddr                       // struct sockaddr behind a pointer
	SockFlags                      // accept4 flags
	IOCBs                          // struct iocb *[] (io_submit)
	IOEvents                       // struct io_event[] filled by the kernel (io_getevents)
	AIOContext                     // aio_context_t, by value or behind a pointer (io_setup)
	UringParams                    // struct io_uring_params (io_uring_setup)
	UringEnterFlags                // IORING_ENTER_*
	UringRegisterOp                // IORING_REGISTER_*
	Signal                         // SIG*
	CloneFlags                     // CLONE_*
	Argv                           // char *const argv[]
	PollFDs                        // struct pollfd array
	PrctlOption                    // PR_*
	PrctlArg                       // a string for PR_SET_NAME, a number otherwise
	Int32                          // a C int: the low 32 bits, signed (a pid of -1)
	WaitOptions                    // WNOHANG|WUNTRACED|… (wait4)
	WaitStatus                     // int * the kernel fills with a child's status (wait4)
	Offset                         // a file offset as strace prints mmap's: hex, 0 as 0
	MsgFlags                       // MSG_* (send/recv), 0 as 0
	Omit                           // not shown: the high half of an offset split in two on 64-bit
	IntPtr                         // an int the kernel fills in (a socket address's length): [16]
	AccessMode                     // R_OK|W_OK|X_OK, or F_OK (access, faccessat)
	Stat                           // struct stat the kernel fills in: its type, mode and size, as strace shows it
	SigAction                      // struct sigaction as the kernel takes it (rt_sigaction)
	SigSet                         // a sigset_t behind a pointer: [USR1 CHLD], ~[] for a full one
	SigHow                         // SIG_BLOCK, SIG_UNBLOCK, SIG_SETMASK
	ArchPrctl                      // ARCH_SET_FS, … (x86_64's arch_prctl)
	HexInt                         // a number strace prints in hex (rseq's length and signature)
	RlimitResource                 // RLIMIT_*
	Rlimit                         // struct rlimit: {rlim_cur=8192*1024, rlim_max=RLIM64_INFINITY}
	BufHex                         // a buffer of binary bytes, every one as \xNN (getrandom's, as strace shows it)
	GrndFlags                      // GRND_NONBLOCK|GRND_RANDOM|GRND_INSECURE
	Envp                           // execve's environment: its address and how many strings, /* 35 vars */
)

// CaptureKind says what the BPF side copies from user memory for an argument. The values are
// the IOT_CAP_* constants of bpf/iotrace.h.
type CaptureKind uint8

const (
	CapNone   CaptureKind = iota
	CapBuf                // bytes, capped by the snap length (-s)
	CapStr                // NUL-terminated string
	CapStruct             // a fixed-size struct (Size bytes)
	CapIOV                // iovec array: each iovec's length and first snap-length bytes
	CapArray              // Size-byte elements, count from Len
	CapPtrArr             // array of pointers to Size-byte structs (io_submit's iocbs)
	CapArgv               // array of string pointers
	CapFDInfo             // the file a descriptor names: inode, size, device (Arg, or RetArg)
	CapFDPair             // the int[2] of descriptors pipe and socketpair fill in, and the file each names
)

// RetArg as a capture's Arg means the return value (a new descriptor).
const RetArg = 6

// LenSource says where a capture's length or element count comes from.
type LenSource uint8

const (
	LenNone  LenSource = iota
	LenArg             // argument LenArg
	LenRet             // the return value (bytes read, events ready)
	LenFixed           // Size
)

// Capture describes one copy from user memory, done at entry or at exit.
type Capture struct {
	Kind   CaptureKind
	AtExit bool
	// Input: taken at exit, but of what the call was given (a write's whole buffer), not only of
	// what it transferred.
	Input  bool
	Arg    int // the pointer argument's position
	Len    LenSource
	LenArg int
	Size   int // struct size or element size on this arch
}

// Spec is what the decoder knows of one syscall beyond its number and argument names.
type Spec struct {
	Args     map[int]ArgType // by position; missing positions are Int
	Captures []Capture       // at most two
	// NoReturn marks calls that never come back (exit, exit_group): the BPF side emits them at entry.
	NoReturn bool
	// RetHex: the return value is an address (mmap, mremap, brk).
	RetHex bool
}

// GoArch maps a kernel machine name (uname -m, as recordings store it) to the GOARCH naming the
// syscall table; GOARCH names pass through.
func GoArch(machine string) string {
	switch machine {
	case "x86_64":
		return "amd64"
	case "aarch64":
		return "arm64"
	}
	return machine
}

// Machine is GoArch's inverse, for headers.
func Machine(goarch string) string {
	switch goarch {
	case "amd64":
		return "x86_64"
	case "arm64":
		return "aarch64"
	}
	return goarch
}
