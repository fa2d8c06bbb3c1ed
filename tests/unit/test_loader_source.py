"""The loader source decides: read from a real kernel tree, it agrees with the built-in table."""

import re
import subprocess
from pathlib import Path

import pytest

from rustkmod.verify.loader_source import accepted_types, read_accepted_types
from rustkmod.verify.policy import POLICIES

DEBIAN_SOURCE = Path("/usr/src/linux-source-6.1.tar.xz")


@pytest.fixture(scope="module")
def debian_6_1_tree(tmp_path_factory):
    """The loader sources of Debian's linux-source-6.1 (installed by ./setup), unpacked."""
    assert DEBIAN_SOURCE.is_file(), "linux-source-6.1 is missing: run ./setup"
    root = tmp_path_factory.mktemp("linux-source")
    members = ["linux-source-6.1/Makefile"] + [f"linux-source-6.1/arch/{a}/kernel/module.c"
                                               for a in ("x86", "arm64", "riscv", "arm")]
    subprocess.run(["tar", "-xJf", str(DEBIAN_SOURCE), "-C", str(root), *members], check=True)
    return root / "linux-source-6.1"


def tree_version(tree: Path) -> tuple:
    text = (tree / "Makefile").read_text()
    return tuple(int(re.search(rf"^{key} = (\d+)", text, re.M).group(1)) for key in ("VERSION", "PATCHLEVEL", "SUBLEVEL"))


# A .config per architecture, as its kernels have them (the loader sources' #ifdef blocks follow it).
CONFIGS = {
    "x86_64": {"CONFIG_X86_64": "y"}, "i386": {"CONFIG_X86_32": "y"}, "arm64": {"CONFIG_ARM64": "y"},
    "riscv64": {"CONFIG_RISCV": "y"}, "arm": {"CONFIG_ARM": "y", "CONFIG_ARM_HAS_GROUP_RELOCS": "y"},
    "arm-thumb2": {"CONFIG_ARM": "y", "CONFIG_ARM_HAS_GROUP_RELOCS": "y", "CONFIG_THUMB2_KERNEL": "y"},
}


@pytest.mark.parametrize("configured", sorted(CONFIGS))
def test_debian_6_1_loader_source_agrees_with_the_table(debian_6_1_tree, configured):
    arch, config = configured.split("-")[0], CONFIGS[configured]
    version = tree_version(debian_6_1_tree)
    assert version[:2] == (6, 1)
    from_source, path = read_accepted_types(str(debian_6_1_tree), arch, config=config)
    policy = POLICIES[arch]
    from_table = {name for number, name in policy.type_names.items()
                  if policy.acceptance(number).accepts(version, config) and name not in policy.always_refused}
    assert from_source == from_table, path
    assert len(from_source) >= 3
    if arch == "arm":      # Thumb-2 types only in a Thumb-2 kernel, in the source and in the table
        assert ("R_ARM_THM_CALL" in from_source) == (configured == "arm-thumb2")


ARM64_4_15 = """
	switch (ELF64_R_TYPE(rel[i].r_info)) {
	/* Null relocations. */
	case R_ARM_NONE:
	case R_AARCH64_NONE:
		ovf = 0;
		break;
	case R_AARCH64_ABS64:
		break;
#ifndef CONFIG_ARM64_ERRATUM_843419
	case R_AARCH64_ADR_PREL_PG_HI21_NC:
		overflow_check = false;
	case R_AARCH64_ADR_PREL_PG_HI21:
		break;
#endif
	case R_AARCH64_CALL26:
		break;
"""


def test_arm64_erratum_block_follows_the_config():
    with_erratum = accepted_types("arm64", ARM64_4_15, {"CONFIG_ARM64_ERRATUM_843419": "y"})
    assert with_erratum == {"R_ARM_NONE", "R_AARCH64_NONE", "R_AARCH64_ABS64", "R_AARCH64_CALL26"}
    assert "R_AARCH64_ADR_PREL_PG_HI21" in accepted_types("arm64", ARM64_4_15, {})
    assert "R_AARCH64_ADR_PREL_PG_HI21" not in accepted_types("arm64", ARM64_4_15, None)   # default y


def test_riscv_handlers_that_refuse_are_not_accepted():
    table = """static const struct relocation_handlers reloc_handlers[] = {
	[R_RISCV_32]		= { .reloc_handler = apply_r_riscv_32_rela },
	[R_RISCV_ALIGN]		= { .reloc_handler = apply_r_riscv_align_rela },
	[R_RISCV_TLS_GD_HI20]	= { .reloc_handler = tls_not_supported },
	/* [R_RISCV_64] = commented out */
};"""
    assert accepted_types("riscv64", table) == {"R_RISCV_32"}


def test_a_backported_vendor_loader_is_believed(tmp_path):
    module_c = tmp_path / "arch/x86/kernel/module.c"
    module_c.parent.mkdir(parents=True)
    module_c.write_text("case R_X86_64_NONE:\ncase R_X86_64_64:\ncase R_X86_64_PC32:\ncase R_X86_64_PLT32:\n")
    names, path = read_accepted_types(str(tmp_path), "x86_64")
    assert "R_X86_64_PLT32" in names and path == "arch/x86/kernel/module.c"
    assert read_accepted_types(str(tmp_path), "arm64") is None
