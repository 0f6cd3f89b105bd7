#include "cposix.h"
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>

int cposix_o_path(void) { return O_PATH; }
int cposix_at_empty_path(void) { return AT_EMPTY_PATH; }
int cposix_hostile_open_flags(void) { return O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY; }
unsigned int cposix_setid_bits(void) { return S_ISUID | S_ISGID; }
int cposix_errno(void) { return errno; }
void cposix_set_errno(int value) { errno = value; }

int cposix_next_entry(DIR *dir, const char **name, unsigned char *type) {
    errno = 0;
    struct dirent *entry = readdir(dir);
    if (entry == NULL) return errno == 0 ? 0 : -1;
    *name = entry->d_name;
    *type = entry->d_type;
    return 1;
}

int64_t cposix_peak_rss_bytes(void) {
    struct rusage usage;
    if (getrusage(RUSAGE_SELF, &usage) != 0) return -1;
    return (int64_t)usage.ru_maxrss * 1024;
}
