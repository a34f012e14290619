/*
 * Start-up of the semihosting test harness: vector table, reset handler (FPU on, .data copied, .bss zeroed),
 * and a fault handler that ends QEMU with a failure code instead of hanging the test.
 */
#include <stdint.h>
#include "semihost.h"

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
int main(void);
void Reset_Handler(void);
void Fault_Handler(void);

__attribute__((section(".isr_vector"), used)) static void (*const vector_table[16])(void) = {
    (void (*)(void))(uintptr_t)&_estack,
    Reset_Handler,
    Fault_Handler, Fault_Handler, Fault_Handler, Fault_Handler, Fault_Handler,
    0, 0, 0, 0,
    Fault_Handler, Fault_Handler, 0, Fault_Handler, Fault_Handler,
};

__attribute__((optimize("no-tree-loop-distribute-patterns"))) void Reset_Handler(void) {
#ifdef __ARM_FP
  *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20; /* CPACR: CP10 and CP11 full access */
  __asm volatile("dsb\n isb" ::: "memory");
#endif
  const uint32_t *source = &_sidata;
  for (uint32_t *destination = &_sdata; destination < &_edata;) *destination++ = *source++;
  for (uint32_t *destination = &_sbss; destination < &_ebss;) *destination++ = 0;
  semihost_exit(main());
}

void Fault_Handler(void) {
  semihost_exit(SEMIHOST_FAULT_EXIT_CODE);
}
