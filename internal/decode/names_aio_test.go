package decode

import "testing"

func TestIOCBNames(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{IOCBOpcode(0), "IOCB_CMD_PREAD"},
		{IOCBOpcode(1), "IOCB_CMD_PWRITE"},
		{IOCBOpcode(2), "IOCB_CMD_FSYNC"},
		{IOCBOpcode(3), "IOCB_CMD_FDSYNC"},
		{IOCBOpcode(5), "IOCB_CMD_POLL"},
		{IOCBOpcode(6), "IOCB_CMD_NOOP"},
		{IOCBOpcode(7), "IOCB_CMD_PREADV"},
		{IOCBOpcode(8), "IOCB_CMD_PWRITEV"},
		{IOCBOpcode(9), "0x9"},
		{IOCBFlags(1), "IOCB_FLAG_RESFD"},
		{IOCBFlags(3), "IOCB_FLAG_RESFD|IOCB_FLAG_IOPRIO"},
		{IOCBFlags(0), "0"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

// Values from include/uapi/linux/io_uring.h; the enums checked against a 6.18 kernel's BTF.
func TestUringNames(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{UringOp(0), "IORING_OP_NOP"},
		{UringOp(1), "IORING_OP_READV"},
		{UringOp(6), "IORING_OP_POLL_ADD"},
		{UringOp(22), "IORING_OP_READ"},
		{UringOp(23), "IORING_OP_WRITE"},
		{UringOp(24), "IORING_OP_FADVISE"},
		{UringOp(29), "IORING_OP_EPOLL_CTL"},
		{UringOp(48), "IORING_OP_SENDMSG_ZC"},
		{UringOp(50), "IORING_OP_WAITID"},
		{UringOp(61), "IORING_OP_WRITEV_FIXED"},
		{UringOp(62), "IORING_OP_PIPE"},
		{UringOp(63), "0x3f"},
		{UringOp(255), "0xff"},

		{UringSetupFlags(0), "0"},
		{UringSetupFlags(1<<1 | 1<<2), "IORING_SETUP_SQPOLL|IORING_SETUP_SQ_AFF"},
		{UringSetupFlags(1<<12 | 1<<13), "IORING_SETUP_SINGLE_ISSUER|IORING_SETUP_DEFER_TASKRUN"},
		{UringSetupFlags(1 << 16), "IORING_SETUP_NO_SQARRAY"},
		{UringSetupFlags(1 << 19), "IORING_SETUP_SQE_MIXED"},
		{UringSetupFlags(1 << 25), "0x2000000"},

		{UringFeatures(0x3fff), "IORING_FEAT_SINGLE_MMAP|IORING_FEAT_NODROP|IORING_FEAT_SUBMIT_STABLE|" +
			"IORING_FEAT_RW_CUR_POS|IORING_FEAT_CUR_PERSONALITY|IORING_FEAT_FAST_POLL|" +
			"IORING_FEAT_POLL_32BITS|IORING_FEAT_SQPOLL_NONFIXED|IORING_FEAT_EXT_ARG|" +
			"IORING_FEAT_NATIVE_WORKERS|IORING_FEAT_RSRC_TAGS|IORING_FEAT_CQE_SKIP|" +
			"IORING_FEAT_LINKED_FILE|IORING_FEAT_REG_REG_RING"},
		{UringFeatures(1 << 17), "IORING_FEAT_NO_IOWAIT"},

		{UringEnterFlags(1), "IORING_ENTER_GETEVENTS"},
		{UringEnterFlags(1<<0 | 1<<3), "IORING_ENTER_GETEVENTS|IORING_ENTER_EXT_ARG"},
		{UringEnterFlags(1 << 4), "IORING_ENTER_REGISTERED_RING"},
		{UringEnterFlags(0), "0"},

		{UringSQEFlags(1<<2 | 1<<4), "IOSQE_IO_LINK|IOSQE_ASYNC"},

		{UringRegisterOp(0), "IORING_REGISTER_BUFFERS"},
		{UringRegisterOp(2), "IORING_REGISTER_FILES"},
		{UringRegisterOp(20), "IORING_REGISTER_RING_FDS"},
		{UringRegisterOp(35), "IORING_REGISTER_QUERY"},
		{UringRegisterOp(36), "0x24"},
		{UringRegisterOp(1<<31 | 8), "IORING_REGISTER_PROBE|IORING_REGISTER_USE_REGISTERED_RING"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}
