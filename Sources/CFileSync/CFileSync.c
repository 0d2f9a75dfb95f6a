#define _GNU_SOURCE
#include <unistd.h>

#include "CFileSync.h"

int certkeeper_syncfs(int fd) { return syncfs(fd); }
