package decode

import (
	"testing"

	"golang.org/x/sys/unix"
)

// Every errno name, by the value golang.org/x/sys gives it. amd64 and arm64 share
// asm-generic/errno.h, so the host's constants stand for both.
var errnoConsts = []struct {
	errno unix.Errno
	name  string
}{
	{unix.EPERM, "EPERM"}, {unix.ENOENT, "ENOENT"}, {unix.ESRCH, "ESRCH"}, {unix.EINTR, "EINTR"},
	{unix.EIO, "EIO"}, {unix.ENXIO, "ENXIO"}, {unix.E2BIG, "E2BIG"}, {unix.ENOEXEC, "ENOEXEC"},
	{unix.EBADF, "EBADF"}, {unix.ECHILD, "ECHILD"}, {unix.EAGAIN, "EAGAIN"},
	{unix.ENOMEM, "ENOMEM"}, {unix.EACCES, "EACCES"}, {unix.EFAULT, "EFAULT"},
	{unix.ENOTBLK, "ENOTBLK"}, {unix.EBUSY, "EBUSY"}, {unix.EEXIST, "EEXIST"},
	{unix.EXDEV, "EXDEV"}, {unix.ENODEV, "ENODEV"}, {unix.ENOTDIR, "ENOTDIR"},
	{unix.EISDIR, "EISDIR"}, {unix.EINVAL, "EINVAL"}, {unix.ENFILE, "ENFILE"},
	{unix.EMFILE, "EMFILE"}, {unix.ENOTTY, "ENOTTY"}, {unix.ETXTBSY, "ETXTBSY"},
	{unix.EFBIG, "EFBIG"}, {unix.ENOSPC, "ENOSPC"}, {unix.ESPIPE, "ESPIPE"},
	{unix.EROFS, "EROFS"}, {unix.EMLINK, "EMLINK"}, {unix.EPIPE, "EPIPE"}, {unix.EDOM, "EDOM"},
	{unix.ERANGE, "ERANGE"}, {unix.EDEADLK, "EDEADLK"}, {unix.ENAMETOOLONG, "ENAMETOOLONG"},
	{unix.ENOLCK, "ENOLCK"}, {unix.ENOSYS, "ENOSYS"}, {unix.ENOTEMPTY, "ENOTEMPTY"},
	{unix.ELOOP, "ELOOP"}, {unix.ENOMSG, "ENOMSG"}, {unix.EIDRM, "EIDRM"},
	{unix.ECHRNG, "ECHRNG"}, {unix.EL2NSYNC, "EL2NSYNC"}, {unix.EL3HLT, "EL3HLT"},
	{unix.EL3RST, "EL3RST"}, {unix.ELNRNG, "ELNRNG"}, {unix.EUNATCH, "EUNATCH"},
	{unix.ENOCSI, "ENOCSI"}, {unix.EL2HLT, "EL2HLT"}, {unix.EBADE, "EBADE"},
	{unix.EBADR, "EBADR"}, {unix.EXFULL, "EXFULL"}, {unix.ENOANO, "ENOANO"},
	{unix.EBADRQC, "EBADRQC"}, {unix.EBADSLT, "EBADSLT"}, {unix.EBFONT, "EBFONT"},
	{unix.ENOSTR, "ENOSTR"}, {unix.ENODATA, "ENODATA"}, {unix.ETIME, "ETIME"},
	{unix.ENOSR, "ENOSR"}, {unix.ENONET, "ENONET"}, {unix.ENOPKG, "ENOPKG"},
	{unix.EREMOTE, "EREMOTE"}, {unix.ENOLINK, "ENOLINK"}, {unix.EADV, "EADV"},
	{unix.ESRMNT, "ESRMNT"}, {unix.ECOMM, "ECOMM"}, {unix.EPROTO, "EPROTO"},
	{unix.EMULTIHOP, "EMULTIHOP"}, {unix.EDOTDOT, "EDOTDOT"}, {unix.EBADMSG, "EBADMSG"},
	{unix.EOVERFLOW, "EOVERFLOW"}, {unix.ENOTUNIQ, "ENOTUNIQ"}, {unix.EBADFD, "EBADFD"},
	{unix.EREMCHG, "EREMCHG"}, {unix.ELIBACC, "ELIBACC"}, {unix.ELIBBAD, "ELIBBAD"},
	{unix.ELIBSCN, "ELIBSCN"}, {unix.ELIBMAX, "ELIBMAX"}, {unix.ELIBEXEC, "ELIBEXEC"},
	{unix.EILSEQ, "EILSEQ"}, {unix.ERESTART, "ERESTART"}, {unix.ESTRPIPE, "ESTRPIPE"},
	{unix.EUSERS, "EUSERS"}, {unix.ENOTSOCK, "ENOTSOCK"}, {unix.EDESTADDRREQ, "EDESTADDRREQ"},
	{unix.EMSGSIZE, "EMSGSIZE"}, {unix.EPROTOTYPE, "EPROTOTYPE"},
	{unix.ENOPROTOOPT, "ENOPROTOOPT"}, {unix.EPROTONOSUPPORT, "EPROTONOSUPPORT"},
	{unix.ESOCKTNOSUPPORT, "ESOCKTNOSUPPORT"}, {unix.EOPNOTSUPP, "EOPNOTSUPP"},
	{unix.EPFNOSUPPORT, "EPFNOSUPPORT"}, {unix.EAFNOSUPPORT, "EAFNOSUPPORT"},
	{unix.EADDRINUSE, "EADDRINUSE"}, {unix.EADDRNOTAVAIL, "EADDRNOTAVAIL"},
	{unix.ENETDOWN, "ENETDOWN"}, {unix.ENETUNREACH, "ENETUNREACH"},
	{unix.ENETRESET, "ENETRESET"}, {unix.ECONNABORTED, "ECONNABORTED"},
	{unix.ECONNRESET, "ECONNRESET"}, {unix.ENOBUFS, "ENOBUFS"}, {unix.EISCONN, "EISCONN"},
	{unix.ENOTCONN, "ENOTCONN"}, {unix.ESHUTDOWN, "ESHUTDOWN"},
	{unix.ETOOMANYREFS, "ETOOMANYREFS"}, {unix.ETIMEDOUT, "ETIMEDOUT"},
	{unix.ECONNREFUSED, "ECONNREFUSED"}, {unix.EHOSTDOWN, "EHOSTDOWN"},
	{unix.EHOSTUNREACH, "EHOSTUNREACH"}, {unix.EALREADY, "EALREADY"},
	{unix.EINPROGRESS, "EINPROGRESS"}, {unix.ESTALE, "ESTALE"}, {unix.EUCLEAN, "EUCLEAN"},
	{unix.ENOTNAM, "ENOTNAM"}, {unix.ENAVAIL, "ENAVAIL"}, {unix.EISNAM, "EISNAM"},
	{unix.EREMOTEIO, "EREMOTEIO"}, {unix.EDQUOT, "EDQUOT"}, {unix.ENOMEDIUM, "ENOMEDIUM"},
	{unix.EMEDIUMTYPE, "EMEDIUMTYPE"}, {unix.ECANCELED, "ECANCELED"}, {unix.ENOKEY, "ENOKEY"},
	{unix.EKEYEXPIRED, "EKEYEXPIRED"}, {unix.EKEYREVOKED, "EKEYREVOKED"},
	{unix.EKEYREJECTED, "EKEYREJECTED"}, {unix.EOWNERDEAD, "EOWNERDEAD"},
	{unix.ENOTRECOVERABLE, "ENOTRECOVERABLE"}, {unix.ERFKILL, "ERFKILL"},
	{unix.EHWPOISON, "EHWPOISON"},
}

func TestErrnoMatchesXSys(t *testing.T) {
	for _, c := range errnoConsts {
		if got := Errno(int(c.errno)); got != c.name {
			t.Errorf("Errno(%d) = %q, want %q", int(c.errno), got, c.name)
		}
	}
	// The table has a name for every number x/sys knows, and no more (41 and 58 are holes).
	named := 0
	for n := 1; n < len(errnoNames); n++ {
		if errnoNames[n] != "" {
			named++
		}
	}
	if named != len(errnoConsts) {
		t.Errorf("errnoNames has %d names, the x/sys list %d", named, len(errnoConsts))
	}
}

func TestErrno(t *testing.T) {
	tests := []struct {
		n    int
		want string
	}{
		{-11, "EAGAIN"}, // a raw negative return value
		{11, "EAGAIN"},
		{95, "EOPNOTSUPP"}, // not ENOTSUP, as strace prints it
		{117, "EUCLEAN"},
		{512, "ERESTARTSYS"},
		{-516, "ERESTART_RESTARTBLOCK"},
		{529, "EIOCBQUEUED"},
		{531, "ENOGRACE"},
		{0, "errno 0"},
		{41, "errno 41"},
		{520, "errno 520"},
		{532, "errno 532"},
		{4095, "errno 4095"},
		{-1 << 63, "errno 9223372036854775808"},
	}
	for _, tt := range tests {
		if got := Errno(tt.n); got != tt.want {
			t.Errorf("Errno(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}
