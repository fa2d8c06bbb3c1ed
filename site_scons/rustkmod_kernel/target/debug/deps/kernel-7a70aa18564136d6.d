/work/main/site_scons/rustkmod_kernel/target/debug/deps/kernel-7a70aa18564136d6.d: src/lib.rs src/alloc/mod.rs src/alloc/host.rs src/device.rs src/error.rs src/init.rs src/ioctl.rs src/miscdevice.rs src/module.rs src/module_param.rs src/prelude.rs src/registrations.rs src/str.rs src/sync/mod.rs src/sync/arc.rs src/sync/host.rs src/time.rs src/transmute.rs src/uaccess.rs

/work/main/site_scons/rustkmod_kernel/target/debug/deps/kernel-7a70aa18564136d6: src/lib.rs src/alloc/mod.rs src/alloc/host.rs src/device.rs src/error.rs src/init.rs src/ioctl.rs src/miscdevice.rs src/module.rs src/module_param.rs src/prelude.rs src/registrations.rs src/str.rs src/sync/mod.rs src/sync/arc.rs src/sync/host.rs src/time.rs src/transmute.rs src/uaccess.rs

src/lib.rs:
src/alloc/mod.rs:
src/alloc/host.rs:
src/device.rs:
src/error.rs:
src/init.rs:
src/ioctl.rs:
src/miscdevice.rs:
src/module.rs:
src/module_param.rs:
src/prelude.rs:
src/registrations.rs:
src/str.rs:
src/sync/mod.rs:
src/sync/arc.rs:
src/sync/host.rs:
src/time.rs:
src/transmute.rs:
src/uaccess.rs:
