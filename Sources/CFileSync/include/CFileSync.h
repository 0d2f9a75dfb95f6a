#ifndef CERTKEEPER_CFILESYNC_H
#define CERTKEEPER_CFILESYNC_H

/// syncfs(2) on the file system holding `fd` (glibc declares it only with _GNU_SOURCE, which Swift's Glibc module
/// does not set). Returns 0, or -1 with errno set.
int certkeeper_syncfs(int fd);

#endif
