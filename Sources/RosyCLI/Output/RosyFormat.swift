import RosyWire

/// Python's `datetime.now()` printed as rosy prints it, in brackets: `[2024-05-01 12:30:05.123456]`.
func bracketedNow() -> String {
    "[\(LocalDateTime.now().pythonDescription)]"
}

/// rosy's `print_args_and_kwargs`: numbered args and key=value kwargs as Python reprs.
func argsAndKwargsText(args: [Value], kwargs: Kwargs) -> String {
    var lines: [String] = []
    if !args.isEmpty {
        lines.append("args:")
        for (i, arg) in args.enumerated() { lines.append("  \(i): \(fenced(arg.pythonRepr))") }
    }
    if !kwargs.isEmpty {
        lines.append("kwargs:")
        for (key, value) in kwargs { lines.append("  \(key)=\(fenced(value.pythonRepr))") }
    }
    return lines.map { $0 + "\n" }.joined()
}

private func fenced(_ repr: String) -> String {
    repr.contains("\n") ? "```\n\(repr)\n```" : repr
}
