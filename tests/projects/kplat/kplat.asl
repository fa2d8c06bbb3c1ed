/* kplat's device in an ACPI table (x86), with the same properties in _DSD (device properties). */
DefinitionBlock ("", "SSDT", 2, "RUSTKM", "KPLAT", 1)
{
    Scope (\_SB)
    {
        Device (KPLT)
        {
            Name (_HID, "RKMD0001")
            Name (_DSD, Package () {
                ToUUID ("daffd814-6eba-4d8c-8a91-bc9bbf4aa301"),
                Package () {
                    Package () { "label", "kplat-board" },
                    Package () { "rustkmod,channels", Package () { 3, 5, 7 } },
                }
            })
        }
    }
}
