/work/main/site_scons/rustkmod_rt/target/debug/deps/rustkmod_rt-9be775c82a7bcf87.d: src/lib.rs src/error.rs src/print.rs

/work/main/site_scons/rustkmod_rt/target/debug/deps/rustkmod_rt-9be775c82a7bcf87: src/lib.rs src/error.rs src/print.rs

src/lib.rs:
src/error.rs:
src/print.rs:
