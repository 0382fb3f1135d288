/// Turns a node's `command`, `shell`, `args` and `pass_name` into the argument vector to exec,
/// the way rosy 0.8.3 does (`--name NAME` appended, quoted like rosy's `quote_arg`).
///
/// ```swift
/// CommandLineBuilder.arguments(for: .string("python -m demo"), shell: true, args: [], name: "cam")
/// // ["/bin/sh", "-c", "exec python -m demo --name cam"]
/// ```
///
/// A shell command that is one simple command runs under `exec`, so the node's process is
/// the program itself, not a shell waiting for it: its stop signal reaches the program, and
/// its exit status and pid are the program's. A script with operators (`;`, `&&`, `|`,
/// redirections, subshells, ...) is left to the shell as written.
public enum CommandLineBuilder {
    public static func arguments(for command: NodeCommand, shell: Bool, args: [String], name: String?) -> [String] {
        var extra = args
        if let name { extra += ["--name", name] }
        switch (command, shell) {
        case (.string(let text), true):
            let script = ([text] + extra.map(quote)).joined(separator: " ")
            return ["/bin/sh", "-c", isSimpleCommand(text) ? "exec " + script : script]
        case (.string(let text), false):
            return splitWords(text) + extra
        case (.list(let list), false):
            return list + extra
        case (.list(let list), true):
            // Python's Popen(list, shell=True): the first item is the script, the rest its $0, $1...
            return ["/bin/sh", "-c"] + list + extra
        }
    }

    /// Whether a shell script is a single simple command, which `exec` may prefix: no control
    /// or redirection operators, no substitutions, no leading assignment or keyword.
    static func isSimpleCommand(_ script: String) -> Bool {
        let operators: Set<Character> = [";", "&", "|", "<", ">", "(", ")", "`", "\n"]
        guard !script.contains(where: operators.contains) else { return false }
        let words = script.split(whereSeparator: \.isWhitespace)
        guard let first = words.first, !words.contains(where: { $0.hasPrefix("#") }) else { return false }
        let keywords: Set<Substring> = ["if", "for", "while", "until", "case", "!", "{", "exec", "function", "select"]
        return !first.contains("=") && !keywords.contains(first)
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
