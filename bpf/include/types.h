/* Kernel types and BPF UAPI constants used by iotrace's programs; see README.md. */
#pragma once

typedef unsigned char __u8;
typedef signed char __s8;
typedef unsigned short __u16;
typedef signed short __s16;
typedef unsigned int __u32;
typedef signed int __s32;
typedef unsigned long long __u64;
typedef signed long long __s64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;
typedef _Bool bool;
#define true 1
#define false 0

/* linux/bpf.h */
enum bpf_map_type {
	BPF_MAP_TYPE_HASH = 1,
	BPF_MAP_TYPE_ARRAY = 2,
	BPF_MAP_TYPE_PERCPU_ARRAY = 6,
	BPF_MAP_TYPE_RINGBUF = 27,
};
enum {
	BPF_ANY = 0,
	BPF_NOEXIST = 1,
};
enum {
	BPF_RB_NO_WAKEUP = (1ULL << 0),
	BPF_RB_FORCE_WAKEUP = (1ULL << 1),
};
enum {
	BPF_RB_AVAIL_DATA = 0,
};
enum {
	BPF_F_NO_PREALLOC = (1U << 0),
};

/* Kernel structs, relocated by CO-RE: only the fields read are declared. */
#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)
typedef struct {
	int counter;
} atomic_t;

struct signal_struct {
	atomic_t live;
};

struct super_block {
	__u32 s_dev;
};

struct inode {
	unsigned long i_ino;
	__s64 i_size;
	struct super_block *i_sb;
};

struct file {
	struct inode *f_inode;
};

struct fdtable {
	unsigned int max_fds;
	struct file **fd;
};

struct files_struct {
	struct fdtable *fdt;
};

struct task_struct {
	unsigned int __state; /* TASK_RUNNING is 0 (named __state since 5.14) */
	unsigned int flags;
	struct files_struct *files;
	int pid;
	int tgid;
	int exit_code;
	char comm[16];
	struct signal_struct *signal;
};

struct linux_binprm {
	const char *filename;
};
#pragma clang attribute pop
