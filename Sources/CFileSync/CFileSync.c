#define _GNU_SOURCE
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "CFileSync.h"

int certkeeper_syncfs(int fd) { return syncfs(fd); }

int certkeeper_ofd_lock_byte(int fd, long long offset, int exclusive) {
    struct flock lock;
    memset(&lock, 0, sizeof lock);  // l_pid must be 0 for OFD locks
    lock.l_type = exclusive ? F_WRLCK : F_UNLCK;
    lock.l_whence = SEEK_SET;
    lock.l_start = (off_t)offset;
    lock.l_len = 1;
    return fcntl(fd, F_OFD_SETLK, &lock);
}
