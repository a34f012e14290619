/* ARM CMSDK APB UART (MPS2 FPGA images and their QEMU models). */
#include "board.h"
#include "console.h"

#define UART_DATA REG32(CONSOLE_BASE + 0x00u)
#define UART_STATE REG32(CONSOLE_BASE + 0x04u)
#define UART_CTRL REG32(CONSOLE_BASE + 0x08u)
#define UART_BAUDDIV REG32(CONSOLE_BASE + 0x10u)

#define STATE_TX_FULL (1u << 0)
#define STATE_RX_FULL (1u << 1)
#define STATE_RX_OVERRUN (1u << 3)
#define CTRL_TX_ENABLE (1u << 0)
#define CTRL_RX_ENABLE (1u << 1)

void console_init(uint32_t kernel_hz) {
  UART_CTRL = 0;
  UART_BAUDDIV = kernel_hz / CONSOLE_BAUD;
  UART_CTRL = CTRL_TX_ENABLE | CTRL_RX_ENABLE;
  /* Reading DATA discards a stale byte; it also makes QEMU's model resume taking input, which it otherwise does
     only about once a second after the receiver was enabled. */
  (void)UART_DATA;
}

void console_write(const uint8_t *data, uint32_t length) {
  for (uint32_t i = 0; i < length; i++) {
    while (UART_STATE & STATE_TX_FULL) {
    }
    UART_DATA = data[i];
  }
}

int console_read(void) {
  const uint32_t state = UART_STATE;
  if (state & STATE_RX_OVERRUN) UART_STATE = STATE_RX_OVERRUN; /* write 1 to clear */
  if (!(state & STATE_RX_FULL)) return -1;
  return (int)(UART_DATA & 0xFFu);
}
