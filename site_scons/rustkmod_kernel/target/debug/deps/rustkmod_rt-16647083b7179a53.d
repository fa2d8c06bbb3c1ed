/work/main/site_scons/rustkmod_kernel/target/debug/deps/rustkmod_rt-16647083b7179a53.d: /work/main/site_scons/rustkmod_rt/src/lib.rs /work/main/site_scons/rustkmod_rt/src/error.rs /work/main/site_scons/rustkmod_rt/src/print.rs

/work/main/site_scons/rustkmod_kernel/target/debug/deps/librustkmod_rt-16647083b7179a53.rlib: /work/main/site_scons/rustkmod_rt/src/lib.rs /work/main/site_scons/rustkmod_rt/src/error.rs /work/main/site_scons/rustkmod_rt/src/print.rs

/work/main/site_scons/rustkmod_kernel/target/debug/deps/librustkmod_rt-16647083b7179a53.rmeta: /work/main/site_scons/rustkmod_rt/src/lib.rs /work/main/site_scons/rustkmod_rt/src/error.rs /work/main/site_scons/rustkmod_rt/src/print.rs

/work/main/site_scons/rustkmod_rt/src/lib.rs:
/work/main/site_scons/rustkmod_rt/src/error.rs:
/work/main/site_scons/rustkmod_rt/src/print.rs:
