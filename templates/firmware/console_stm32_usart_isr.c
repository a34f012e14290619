/* STM32 USART / LPUART with the ISR/RDR/TDR register layout (F0, F3, F7, G0, H7, L4). */
#include "board.h"
#include "console.h"

#define USART_CR1 REG32(CONSOLE_BASE + 0x00u)
#define USART_CR2 REG32(CONSOLE_BASE + 0x04u)
#define USART_CR3 REG32(CONSOLE_BASE + 0x08u)
#define USART_BRR REG32(CONSOLE_BASE + 0x0Cu)
#define USART_ISR REG32(CONSOLE_BASE + 0x1Cu)
#define USART_ICR REG32(CONSOLE_BASE + 0x20u)
#define USART_RDR REG32(CONSOLE_BASE + 0x24u)
#define USART_TDR REG32(CONSOLE_BASE + 0x28u)

#define CR1_UE (1u << 0)
#define CR1_RE (1u << 2)
#define CR1_TE (1u << 3)
#define ISR_ORE (1u << 3)
#define ISR_RXNE (1u << 5)
#define ISR_TXE (1u << 7)
#define ICR_ORECF (1u << 3)

void console_init(uint32_t kernel_hz) {
  USART_CR1 = 0;
  /* USART: kernel / baud; LPUART: 256 * kernel / baud (CONSOLE_BRR_SCALE says which). */
  USART_BRR = (uint32_t)(((uint64_t)kernel_hz * CONSOLE_BRR_SCALE + CONSOLE_BAUD / 2u) / CONSOLE_BAUD);
  USART_CR2 = 0;
  USART_CR3 = 0;
  USART_CR1 = CR1_UE | CR1_TE | CR1_RE;
}

void console_write(const uint8_t *data, uint32_t length) {
  for (uint32_t i = 0; i < length; i++) {
    while (!(USART_ISR & ISR_TXE)) {
    }
    USART_TDR = data[i];
  }
}

int console_read(void) {
  const uint32_t isr = USART_ISR;
  /* An overrun stops reception until cleared; the lost byte shows up as a bad frame checksum. */
  if (isr & ISR_ORE) USART_ICR = ICR_ORECF;
  if (!(isr & ISR_RXNE)) return -1;
  return (int)(USART_RDR & 0xFFu);
}
