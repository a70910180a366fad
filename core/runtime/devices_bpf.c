/* cgroup v2 device access: a small BPF program attached to the container's cgroup, which lets
 * it make any device node but open only the default ones (null, zero, full, random, urandom,
 * tty, console, ptmx, pts, tun) — what the v1 devices controller does with its lists. */
#include "runtime/cgroup.h"
#include "base/err.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stddef.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_bpf
#define SYS_bpf 321
#endif

/* Instruction builders (the BPF ISA: opcode, dst/src registers, offset, immediate). */
#define LDX_W(dst, src, off) { BPF_LDX | BPF_MEM | BPF_W, dst, src, off, 0 }
#define MOV64_REG(dst, src) { BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0 }
#define MOV64_IMM(dst, imm) { BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm }
#define AND64_IMM(dst, imm) { BPF_ALU64 | BPF_AND | BPF_K, dst, 0, 0, imm }
#define RSH64_IMM(dst, imm) { BPF_ALU64 | BPF_RSH | BPF_K, dst, 0, 0, imm }
#define JEQ_IMM(dst, imm, off) { BPF_JMP | BPF_JEQ | BPF_K, dst, 0, off, imm }
#define JNE_IMM(dst, imm, off) { BPF_JMP | BPF_JNE | BPF_K, dst, 0, off, imm }
#define JLE_IMM(dst, imm, off) { BPF_JMP | BPF_JLE | BPF_K, dst, 0, off, imm }
#define EXIT() { BPF_JMP | BPF_EXIT, 0, 0, 0, 0 }

#define JA(off) { BPF_JMP | BPF_JA, 0, 0, off, 0 }

/* r1: ctx. r2: access, r3: type, r4: major, r5: minor. A jump goes `off` instructions past the
 * next one; DENY is at 22 and ALLOW at 24. */
static const struct bpf_insn program[] = {
	/* 0 */ LDX_W(BPF_REG_2, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, access_type)),
	/* 1 */ MOV64_REG(BPF_REG_3, BPF_REG_2),
	/* 2 */ AND64_IMM(BPF_REG_3, 0xffff),
	/* 3 */ RSH64_IMM(BPF_REG_2, 16),
	/* 4 */ LDX_W(BPF_REG_4, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, major)),
	/* 5 */ LDX_W(BPF_REG_5, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, minor)),
	/* 6 */ MOV64_REG(BPF_REG_0, BPF_REG_2),
	/* 7 */ AND64_IMM(BPF_REG_0, ~BPF_DEVCG_ACC_MKNOD),
	/* 8 */ JEQ_IMM(BPF_REG_0, 0, 15),                  /* mknod alone: allow */
	/* 9 */ JNE_IMM(BPF_REG_3, BPF_DEVCG_DEV_CHAR, 12), /* block devices: deny */
	/* 10 */ JEQ_IMM(BPF_REG_4, 136, 13),               /* pts */
	/* 11 */ JNE_IMM(BPF_REG_4, 1, 6),                  /* -> 18 */
	/* 12 */ JEQ_IMM(BPF_REG_5, 3, 11),                 /* null */
	/* 13 */ JEQ_IMM(BPF_REG_5, 5, 10),                 /* zero */
	/* 14 */ JEQ_IMM(BPF_REG_5, 7, 9),                  /* full */
	/* 15 */ JEQ_IMM(BPF_REG_5, 8, 8),                  /* random */
	/* 16 */ JEQ_IMM(BPF_REG_5, 9, 7),                  /* urandom */
	/* 17 */ JA(4),                                     /* other memory devices: deny */
	/* 18 */ JNE_IMM(BPF_REG_4, 5, 1),                  /* -> 20 */
	/* 19 */ JLE_IMM(BPF_REG_5, 2, 4),                  /* tty, console, ptmx */
	/* 20 */ JNE_IMM(BPF_REG_4, 10, 1),                 /* -> 22 */
	/* 21 */ JEQ_IMM(BPF_REG_5, 200, 2),                /* tun */
	/* 22 */ MOV64_IMM(BPF_REG_0, 0),                   /* DENY */
	/* 23 */ EXIT(),
	/* 24 */ MOV64_IMM(BPF_REG_0, 1),                   /* ALLOW */
	/* 25 */ EXIT(),
};

int cg_devices_bpf_attach(const char *cgroup_dir, struct berr **err)
{
	union bpf_attr attr;
	int prog, cg, r;

	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	attr.insns = (uint64_t) (uintptr_t) program;
	attr.insn_cnt = sizeof(program) / sizeof(program[0]);
	attr.license = (uint64_t) (uintptr_t) "Apache-2.0";
	prog = (int) syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
	if (prog < 0)
		return berr_make(err, errno, "load the device access program (kernel needs CONFIG_CGROUP_BPF)");
	cg = open(cgroup_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg < 0) {
		int saved = errno;
		close(prog);
		return berr_make(err, saved, "open cgroup `%s`", cgroup_dir);
	}
	memset(&attr, 0, sizeof(attr));
	attr.target_fd = (uint32_t) cg;
	attr.attach_bpf_fd = (uint32_t) prog;
	attr.attach_type = BPF_CGROUP_DEVICE;
	r = (int) syscall(SYS_bpf, BPF_PROG_ATTACH, &attr, sizeof(attr));
	if (r < 0)
		r = berr_make(err, errno, "attach the device access program to `%s`", cgroup_dir);
	/* The attachment holds the program: our fds can go. */
	close(cg);
	close(prog);
	return r < 0 ? -1 : 0;
}
