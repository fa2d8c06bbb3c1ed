// The BAR behind a DevresBar is reached only while a guard lives (unbinding waits for it): a
// reference kept past the guard would reach a BAR unmapped at unbind.
// expect: E0515
use kernel::{pci, sync::Arc};

pub fn keep(bar: Arc<pci::DevresBar<16>>) -> Option<&'static pci::Bar<'static, 16>> {
    let guard = bar.try_access()?;
    let kept: &pci::Bar<'_, 16> = &guard;
    Some(kept)
}
