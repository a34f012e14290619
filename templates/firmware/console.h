/* The console UART the protocol runs over: polled, no interrupts, one implementation per UART kind. */
#ifndef TINYEDGE_CONSOLE_H
#define TINYEDGE_CONSOLE_H

#include <stdint.h>

void console_init(uint32_t kernel_hz);
void console_write(const uint8_t *data, uint32_t length);
/* The next received byte, or -1 when none is waiting. */
int console_read(void);

#endif
