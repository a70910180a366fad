/* cgroup v2 device access: a small BPF program attached to the container's cgroup, which lets
 * it make any device node but open only the default ones (null, zero, full, random, urandom,
 * tty, console, ptmx, pts, tun) and those given with --device — what the v1 devices
 * controller does with its lists. */
#include "runtime/cgroup.h"
#include "base/err.h"
#include "base/util.h"

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

/* r1: ctx. r2: access, r3: type, r4: major, r5: minor. The head loads them; then one block
 * per --device (device_block); then the default rules. A jump goes `off` instructions past
 * the next one; in the tail, DENY is at 16 and ALLOW at 18. */
static const struct bpf_insn head[] = {
	/* 0 */ LDX_W(BPF_REG_2, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, access_type)),
	/* 1 */ MOV64_REG(BPF_REG_3, BPF_REG_2),
	/* 2 */ AND64_IMM(BPF_REG_3, 0xffff),
	/* 3 */ RSH64_IMM(BPF_REG_2, 16),
	/* 4 */ LDX_W(BPF_REG_4, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, major)),
	/* 5 */ LDX_W(BPF_REG_5, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, minor)),
};

static const struct bpf_insn tail[] = {
	/* 0 */ MOV64_REG(BPF_REG_0, BPF_REG_2),
	/* 1 */ AND64_IMM(BPF_REG_0, ~BPF_DEVCG_ACC_MKNOD),
	/* 2 */ JEQ_IMM(BPF_REG_0, 0, 15),                  /* mknod alone: allow */
	/* 3 */ JNE_IMM(BPF_REG_3, BPF_DEVCG_DEV_CHAR, 12), /* block devices: deny */
	/* 4 */ JEQ_IMM(BPF_REG_4, 136, 13),                /* pts */
	/* 5 */ JNE_IMM(BPF_REG_4, 1, 6),                   /* -> 12 */
	/* 6 */ JEQ_IMM(BPF_REG_5, 3, 11),                  /* null */
	/* 7 */ JEQ_IMM(BPF_REG_5, 5, 10),                  /* zero */
	/* 8 */ JEQ_IMM(BPF_REG_5, 7, 9),                   /* full */
	/* 9 */ JEQ_IMM(BPF_REG_5, 8, 8),                   /* random */
	/* 10 */ JEQ_IMM(BPF_REG_5, 9, 7),                  /* urandom */
	/* 11 */ JA(4),                                     /* other memory devices: deny */
	/* 12 */ JNE_IMM(BPF_REG_4, 5, 1),                  /* -> 14 */
	/* 13 */ JLE_IMM(BPF_REG_5, 2, 4),                  /* tty, console, ptmx */
	/* 14 */ JNE_IMM(BPF_REG_4, 10, 1),                 /* -> 16 */
	/* 15 */ JEQ_IMM(BPF_REG_5, 200, 2),                /* tun */
	/* 16 */ MOV64_IMM(BPF_REG_0, 0),                   /* DENY */
	/* 17 */ EXIT(),
	/* 18 */ MOV64_IMM(BPF_REG_0, 1),                   /* ALLOW */
	/* 19 */ EXIT(),
};
#define TAIL_ALLOW 18
#define BLOCK_LEN 6

/* A --device: this type, major and minor, asking for nothing beyond its permissions, is
 * allowed; anything else goes on to the next block (the rules add up, as v1's allow list
 * does). `to_allow` is the distance from the block's start to ALLOW. */
static void device_block(struct bpf_insn *b, const struct cg_device *d, int to_allow)
{
	int acc = 0;

	for (const char *p = d->access; *p; p++)
		acc |= *p == 'r' ? BPF_DEVCG_ACC_READ : *p == 'w' ? BPF_DEVCG_ACC_WRITE : BPF_DEVCG_ACC_MKNOD;
	b[0] = (struct bpf_insn) JNE_IMM(BPF_REG_3, d->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR, 5);
	b[1] = (struct bpf_insn) JNE_IMM(BPF_REG_4, (int32_t) d->major, 4);
	b[2] = (struct bpf_insn) JNE_IMM(BPF_REG_5, (int32_t) d->minor, 3);
	b[3] = (struct bpf_insn) MOV64_REG(BPF_REG_0, BPF_REG_2);
	b[4] = (struct bpf_insn) AND64_IMM(BPF_REG_0, ~acc);
	b[5] = (struct bpf_insn) JEQ_IMM(BPF_REG_0, 0, (int16_t) (to_allow - 6));
}

int cg_devices_bpf_attach(const char *cgroup_dir, const struct cg_device *devices, size_t n,
			  struct berr **err)
{
	struct bpf_insn program[ARRAY_SIZE(head) + CG_DEVICES_MAX * BLOCK_LEN + ARRAY_SIZE(tail)];
	size_t len = 0;
	union bpf_attr attr;
	int prog, cg, r;

	if (n > CG_DEVICES_MAX)
		return berr_usage(err, "%zu devices: at most %d", n, CG_DEVICES_MAX);
	memcpy(program, head, sizeof(head));
	len = ARRAY_SIZE(head);
	for (size_t i = 0; i < n; i++, len += BLOCK_LEN)
		device_block(program + len, &devices[i],
			     (int) ((n - i) * BLOCK_LEN + TAIL_ALLOW));
	memcpy(program + len, tail, sizeof(tail));
	len += ARRAY_SIZE(tail);

	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	attr.insns = (uint64_t) (uintptr_t) program;
	attr.insn_cnt = (uint32_t) len;
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
