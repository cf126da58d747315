/* SPDX-License-Identifier: MIT */
/* idle.c -- does nothing until killed: under qemu-user, the emulator's own resident memory
 * with a libc-only guest, the baseline 10-agent.py subtracts from the agent's (docs/cross.md). */
#include <unistd.h>

int main(void) {
  for (;;) pause();
}
