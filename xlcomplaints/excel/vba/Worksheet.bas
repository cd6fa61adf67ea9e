Option Explicit

' Document module of one worksheet. Every sheet's codeName (xlcRegister, xlcTracking,
' ...) gets a copy of this: Excel pairs document modules with sheets by codeName.
' Deliberately empty: no sheet events, so typing in a sheet never starts Python.
