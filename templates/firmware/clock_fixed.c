/* Boards whose core clock is fixed (the MPS2 FPGA images): nothing to set up. */
#include "board.h"
#include "clock.h"

clock_state_t clock_init(void) {
  clock_state_t state = {BOARD_CLOCK_HZ, CONSOLE_KERNEL_HZ, 1};
  return state;
}
