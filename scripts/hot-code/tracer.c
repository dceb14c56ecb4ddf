// Page-touch tracer for scripts/hot-code/order.sh, preloaded (LD_PRELOAD) into the server:
// it protects the executable's own mappings (its code only with TOUCH_TEXT_ONLY=1) and
// records each 4 KiB page at its first access, in order, to $TOUCH_OUT as 8-byte
// addresses (each mapping first as a header whose lowest bit is set). A fault on a
// recorded mapping re-opens that page and returns, so the program runs unchanged, only
// slower; Rust's runtime keeps a SIGSEGV handler that is already installed.
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
struct region { unsigned long lo, hi; int prot; };
static struct region regions[8]; static int nregions; static int out = -1;
static void on_fault(int sig, siginfo_t *si, void *ctx) {
  unsigned long a = (unsigned long)si->si_addr;
  for (int i = 0; i < nregions; i++) if (a >= regions[i].lo && a < regions[i].hi) {
    unsigned long page = a & ~0xfffUL;
    if (mprotect((void *)page, 4096, regions[i].prot) == 0) {
      if (write(out, &page, sizeof page) < 0) { /* nothing to do in a signal handler */ }
      return;
    }
  }
  signal(sig, SIG_DFL);
}
__attribute__((constructor)) static void start(void) {
  const char *path = getenv("TOUCH_OUT"); if (!path) return;
  out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
  char exe[4096]; ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1); if (n <= 0) return; exe[n] = 0;
  FILE *f = fopen("/proc/self/maps", "r"); char line[8192];
  while (fgets(line, sizeof line, f)) {
    unsigned long a, b; char perm[8]; char p[4096] = "";
    if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %4095s", &a, &b, perm, p) < 3 || strcmp(p, exe)) continue;
    if (perm[1] == 'w') continue;
    if (getenv("TOUCH_TEXT_ONLY") && perm[2] != 'x') continue;
    int prot = PROT_READ | (perm[2] == 'x' ? PROT_EXEC : 0);
    if (nregions < 8) regions[nregions++] = (struct region){a, b, prot};
  }
  fclose(f);
  struct sigaction sa; memset(&sa, 0, sizeof sa); sa.sa_sigaction = on_fault; sa.sa_flags = SA_SIGINFO | SA_NODEFER;
  sigaction(SIGSEGV, &sa, 0);
  unsetenv("LD_PRELOAD");  // processes the server starts are not traced
  for (int i = 0; i < nregions; i++) {
    unsigned long tag[2] = {regions[i].lo | 1, regions[i].hi};
    if (write(out, tag, sizeof tag) != sizeof tag) return;
    mprotect((void *)regions[i].lo, regions[i].hi - regions[i].lo, PROT_NONE);
  }
}
