// SPDX-License-Identifier: GPL-2.0
/*
 * ringdev's Rust core calls no kernel function of the module's C side: rustkmod-rt logs and
 * allocates through std on the host. So the user-space stand-in is empty.
 */
