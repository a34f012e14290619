#include "semihost.h"

enum { SYS_OPEN = 0x01, SYS_CLOSE = 0x02, SYS_WRITE = 0x05, SYS_EXIT_EXTENDED = 0x20 };
enum { MODE_WRITE_BINARY = 5, ADP_STOPPED_APPLICATION_EXIT = 0x20026 };

static int32_t semihost_call(int32_t operation, const void *argument) {
  register int32_t r0 __asm__("r0") = operation;
  register const void *r1 __asm__("r1") = argument;
  __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

int32_t semihost_open_for_writing(const char *path, uint32_t length) {
  const uint32_t block[3] = {(uint32_t)(uintptr_t)path, MODE_WRITE_BINARY, length};
  return semihost_call(SYS_OPEN, block);
}

int32_t semihost_write(int32_t handle, const void *data, uint32_t bytes) {
  const uint32_t block[3] = {(uint32_t)handle, (uint32_t)(uintptr_t)data, bytes};
  return semihost_call(SYS_WRITE, block);
}

void semihost_close(int32_t handle) {
  const uint32_t block[1] = {(uint32_t)handle};
  (void)semihost_call(SYS_CLOSE, block);
}

void semihost_exit(int32_t code) {
  const uint32_t block[2] = {ADP_STOPPED_APPLICATION_EXIT, (uint32_t)code};
  (void)semihost_call(SYS_EXIT_EXTENDED, block);
  for (;;) {
  }
}
