/* STM32 GPIO pin multiplexing (MODER/OSPEEDR/PUPDR/AFR, identical on F4, F7, G0, H7 and L4). */
#include "gpio_stm32.h"
#include "board.h"

#define GPIO_MODER(base) REG32((base) + 0x00u)
#define GPIO_OSPEEDR(base) REG32((base) + 0x08u)
#define GPIO_PUPDR(base) REG32((base) + 0x0Cu)
#define GPIO_AFR(base, pin) REG32((base) + 0x20u + 4u * ((pin) >> 3))

void gpio_alternate_function(uint32_t port_base, uint32_t pin, uint32_t function, int pull_up) {
  const uint32_t two = 2u * pin;
  const uint32_t four = 4u * (pin & 7u);
  GPIO_AFR(port_base, pin) = (GPIO_AFR(port_base, pin) & ~(0xFu << four)) | (function << four);
  GPIO_OSPEEDR(port_base) = (GPIO_OSPEEDR(port_base) & ~(3u << two)) | (2u << two);
  /* A pull-up keeps an unconnected receive line idle instead of reading noise as start bits. */
  GPIO_PUPDR(port_base) = (GPIO_PUPDR(port_base) & ~(3u << two)) | ((pull_up ? 1u : 0u) << two);
  GPIO_MODER(port_base) = (GPIO_MODER(port_base) & ~(3u << two)) | (2u << two);
}
