#ifndef CSECCOMP_SHIM_H
#define CSECCOMP_SHIM_H
// The only Swift-facing header that includes seccomp.h: libseccomp's action macros (SCMP_ACT_*),
// which Swift cannot import, as static inline functions. Nothing else lives here: the libc helpers
// the Sandbox module needs (memfd and seals, pipes, pidfd, spawn attributes, wait statuses) are
// plain functions of the CPosix target, compiled with _GNU_SOURCE, reached through Posix.
#include <seccomp.h>

static inline uint32_t cseccomp_act_errno(uint32_t err) { return SCMP_ACT_ERRNO(err); }
static inline uint32_t cseccomp_act_kill_process(void) { return SCMP_ACT_KILL_PROCESS; }
static inline uint32_t cseccomp_act_allow(void) { return SCMP_ACT_ALLOW; }
static inline uint32_t cseccomp_act_trap(void) { return SCMP_ACT_TRAP; }

#endif
