import FuzzDriver

/// libFuzzer on `FuzzTarget.msgpack` (SwiftPM links `main` to `<module>_main`).
@_cdecl("fuzz_msgpack_main")
public func start(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzDriver.run(.msgpack, argc, argv)
}
