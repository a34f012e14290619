/* The four ARM semihosting calls the test harness needs (ARM IHI 0092: SYS_OPEN, SYS_WRITE, SYS_CLOSE, SYS_EXIT_EXTENDED). */
#ifndef SEMIHOST_H
#define SEMIHOST_H
#include <stdint.h>

/* What the harness exits with when the program faults (a kernel read or wrote where it must not). */
#define SEMIHOST_FAULT_EXIT_CODE 99

/* Opens a host file for binary writing; negative on failure. */
int32_t semihost_open_for_writing(const char *path, uint32_t length);
/* Writes all bytes; 0 on success. */
int32_t semihost_write(int32_t handle, const void *data, uint32_t bytes);
void semihost_close(int32_t handle);
/* Ends the emulator with this exit code. */
__attribute__((noreturn)) void semihost_exit(int32_t code);
#endif
