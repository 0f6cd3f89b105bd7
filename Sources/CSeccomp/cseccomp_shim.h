#ifndef CSECCOMP_SHIM_H
#define CSECCOMP_SHIM_H
// The only Swift-facing header that includes seccomp.h. Function-like macros are wrapped here.
#include <seccomp.h>

static inline uint32_t cseccomp_act_errno(uint32_t err) { return SCMP_ACT_ERRNO(err); }
static inline uint32_t cseccomp_act_kill_process(void) { return SCMP_ACT_KILL_PROCESS; }
static inline uint32_t cseccomp_act_allow(void) { return SCMP_ACT_ALLOW; }
static inline uint32_t cseccomp_act_trap(void) { return SCMP_ACT_TRAP; }

#endif
