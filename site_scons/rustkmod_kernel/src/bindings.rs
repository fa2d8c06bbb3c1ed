//! This kernel's bindings, made by rustkmod from `kernel_api.h` for each kernel the module is built
//! for: the struct layouts (`mutex`, `spinlock`, `kernel_param`) and the wrappers the header defines.
#![allow(non_camel_case_types, non_upper_case_globals, non_snake_case, dead_code, improper_ctypes,
         unsafe_op_in_unsafe_fn, unnecessary_transmutes, missing_docs, clippy::all)]

include!(env!("RUSTKMOD_BINDINGS_KERNEL"));
