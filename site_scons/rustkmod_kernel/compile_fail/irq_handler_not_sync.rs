// An interrupt handler runs on several CPUs at once: one with unsynchronised interior
// mutability (a Cell) would race with itself.
// expect: cannot be shared between threads safely
use core::cell::Cell;
use kernel::irq;

pub struct Counter(Cell<u32>);

impl irq::Handler for Counter {
    fn handle(&self) -> irq::IrqReturn {
        self.0.set(self.0.get() + 1);
        irq::IrqReturn::Handled
    }
}
