/* SPDX-License-Identifier: MIT */
/*
 * no-pidfd: test helper that runs COMMAND as if on a kernel older than 5.3.
 *
 * logoff signals only through pidfds and must refuse, signalling nothing,
 * where the kernel has none; that refusal needs testing on new kernels too.  A seccomp
 * filter makes pidfd_open, pidfd_send_signal and pidfd_getfd fail with
 * ENOSYS, as an old kernel does, and lets every other system call through.
 * Calls made with another architecture's numbering are let through as well.
 * The filter is inherited by every child and survives execve.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <err.h>
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__) && defined(__ILP32__)
#error "x32 is not supported"
#elif defined(__x86_64__)
#define NATIVE_ARCH AUDIT_ARCH_X86_64
#elif defined(__i386__)
#define NATIVE_ARCH AUDIT_ARCH_I386
#elif defined(__aarch64__) && !defined(__AARCH64EB__)
#define NATIVE_ARCH AUDIT_ARCH_AARCH64
#elif defined(__riscv) && __riscv_xlen == 64
#define NATIVE_ARCH AUDIT_ARCH_RISCV64
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define NATIVE_ARCH AUDIT_ARCH_PPC64LE
#elif defined(__s390x__)
#define NATIVE_ARCH AUDIT_ARCH_S390X
#else
#error "unknown architecture: add its AUDIT_ARCH_ value"
#endif

#define NO(nr) \
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), \
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS)

int main(int argc, char **argv) {
        if (argc < 2) {
                fprintf(stderr, "usage: %s COMMAND [ARG...]\n",
                    program_invocation_short_name);
                return 2;
        }

        struct sock_filter insns[] = {
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                    offsetof(struct seccomp_data, arch)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_ARCH, 1, 0),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                    offsetof(struct seccomp_data, nr)),
#ifdef __x86_64__
                /* x32 calls come with the x86-64 arch and this bit set. */
                BPF_STMT(BPF_ALU | BPF_AND | BPF_K, (__u32) ~__X32_SYSCALL_BIT),
#endif
                NO(__NR_pidfd_open),
                NO(__NR_pidfd_send_signal),
                NO(__NR_pidfd_getfd),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        struct sock_fprog prog = {
                .len = sizeof insns / sizeof insns[0],
                .filter = insns,
        };

        /* Needed without CAP_SYS_ADMIN; set always, so the helper behaves
         * the same for everyone.  Set-id programs that COMMAND runs do not
         * gain privileges then. */
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                err(1, "PR_SET_NO_NEW_PRIVS");
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
                err(1, "seccomp");
        execvp(argv[1], argv + 1);
        err(127, "%s", argv[1]);
}
