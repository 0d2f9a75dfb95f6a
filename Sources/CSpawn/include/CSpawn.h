#ifndef CERTKEEPER_CSPAWN_H
#define CERTKEEPER_CSPAWN_H
#include <spawn.h>

/// Adds "close every descriptor from `lowfd` up" to `actions` (glibc >= 2.34), so a child inherits only stdio.
/// Returns 0 or an errno value.
int certkeeper_spawn_closefrom(posix_spawn_file_actions_t *actions, int lowfd);

#endif
