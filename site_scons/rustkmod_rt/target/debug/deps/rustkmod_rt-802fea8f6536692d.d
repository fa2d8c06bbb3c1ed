/work/main/site_scons/rustkmod_rt/target/debug/deps/rustkmod_rt-802fea8f6536692d.d: src/lib.rs src/error.rs src/print.rs

/work/main/site_scons/rustkmod_rt/target/debug/deps/librustkmod_rt-802fea8f6536692d.rlib: src/lib.rs src/error.rs src/print.rs

/work/main/site_scons/rustkmod_rt/target/debug/deps/librustkmod_rt-802fea8f6536692d.rmeta: src/lib.rs src/error.rs src/print.rs

src/lib.rs:
src/error.rs:
src/print.rs:
