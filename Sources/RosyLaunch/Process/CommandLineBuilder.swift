/// Turns a node's `command`, `shell`, `args` and `pass_name` into the argument vector to exec,
/// the way rosy 0.8.3 does (`--name NAME` appended, quoted like rosy's `quote_arg`).
///
/// ```swift
/// CommandLineBuilder.arguments(for: .string("python -m demo"), shell: true, args: [], name: "cam")
/// // ["/bin/sh", "-c", "python -m demo --name cam"]
/// ```
public enum CommandLineBuilder {
    public static func arguments(for command: NodeCommand, shell: Bool, args: [String], name: String?) -> [String] {
        var extra = args
        if let name { extra += ["--name", name] }
        switch (command, shell) {
        case (.string(let text), true):
            return ["/bin/sh", "-c", ([text] + extra.map(quote)).joined(separator: " ")]
        case (.string(let text), false):
            return splitWords(text) + extra
        case (.list(let list), false):
            return list + extra
        case (.list(let list), true):
            // Python's Popen(list, shell=True): the first item is the script, the rest its $0, $1...
            return ["/bin/sh", "-c"] + list + extra
        }
    }

    /// rosy's `quote_arg`: double quotes around an argument holding a space.
    static func quote(_ argument: String) -> String {
        if argument.isEmpty { return "\"\"" }
        if argument.contains(" ") && !(argument.count >= 2 && argument.first == "\"" && argument.last == "\"") {
            return "\"\(argument)\""
        }
        return argument
    }

    /// Splits a command written as one string into words: spaces separate, single and double
    /// quotes group, a backslash escapes (for `shell: false` with a string command).
    static func splitWords(_ text: String) -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quote: Character?
        var escaped = false
        for character in text {
            if escaped { current.append(character); escaped = false; inWord = true; continue }
            if character == "\\" && quote != "'" { escaped = true; continue }
            if let open = quote {
                if character == open { quote = nil } else { current.append(character) }
                continue
            }
            if character == "'" || character == "\"" { quote = character; inWord = true; continue }
            if character.isWhitespace {
                if inWord { words.append(current); current = ""; inWord = false }
                continue
            }
            current.append(character)
            inWord = true
        }
        if inWord { words.append(current) }
        return words
    }
}
