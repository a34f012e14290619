/* STM32 GPIO pin multiplexing: the register layout is the same on F4, F7, G0, H7 and L4. */
#ifndef TINYEDGE_GPIO_STM32_H
#define TINYEDGE_GPIO_STM32_H

#include <stdint.h>

void gpio_alternate_function(uint32_t port_base, uint32_t pin, uint32_t function, int pull_up);

#endif
