/* STM32 USART with the SR/DR register layout (F1, F2, F4). */
#include "board.h"
#include "console.h"

#define USART_SR REG32(CONSOLE_BASE + 0x00u)
#define USART_DR REG32(CONSOLE_BASE + 0x04u)
#define USART_BRR REG32(CONSOLE_BASE + 0x08u)
#define USART_CR1 REG32(CONSOLE_BASE + 0x0Cu)
#define USART_CR2 REG32(CONSOLE_BASE + 0x10u)
#define USART_CR3 REG32(CONSOLE_BASE + 0x14u)

#define SR_ORE (1u << 3)
#define SR_RXNE (1u << 5)
#define SR_TXE (1u << 7)
#define CR1_RE (1u << 2)
#define CR1_TE (1u << 3)
#define CR1_UE (1u << 13)

void console_init(uint32_t kernel_hz) {
  USART_CR1 = 0;
  /* With 16x oversampling the mantissa/fraction pair is the divider in sixteenths: kernel / baud, rounded. */
  USART_BRR = (kernel_hz + CONSOLE_BAUD / 2u) / CONSOLE_BAUD;
  USART_CR2 = 0;
  USART_CR3 = 0;
  USART_CR1 = CR1_UE | CR1_TE | CR1_RE;
}

void console_write(const uint8_t *data, uint32_t length) {
  for (uint32_t i = 0; i < length; i++) {
    while (!(USART_SR & SR_TXE)) {
    }
    USART_DR = data[i];
  }
}

int console_read(void) {
  /* Reading SR then DR also clears an overrun; the lost byte shows up as a bad frame checksum. */
  if (!(USART_SR & (SR_RXNE | SR_ORE))) return -1;
  return (int)(USART_DR & 0xFFu);
}
