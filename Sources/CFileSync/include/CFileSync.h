#ifndef CERTKEEPER_CFILESYNC_H
#define CERTKEEPER_CFILESYNC_H

/// syncfs(2) on the file system holding `fd` (glibc declares it only with _GNU_SOURCE, which Swift's Glibc module
/// does not set). Returns 0, or -1 with errno set.
int certkeeper_syncfs(int fd);

/// Takes (`exclusive` 1) or drops (0) an open-file-description lock (`fcntl` F_OFD_SETLK, not waiting) on the one
/// byte at `offset` of `fd`. Returns 0, or -1 with errno set (EAGAIN or EACCES: another open file description holds
/// it). F_OFD_SETLK is declared only with _GNU_SOURCE.
int certkeeper_ofd_lock_byte(int fd, long long offset, int exclusive);

#endif
