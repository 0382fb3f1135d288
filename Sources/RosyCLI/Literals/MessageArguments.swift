import OrderedCollections
import RosyWire

/// The args and kwargs of a message or call, read from command-line words as rosy does:
/// each word is a Python literal, or `KEY=LITERAL` for a keyword argument.
///
/// ```swift
/// let message = try MessageArguments(parsing: ["'hello world'", "42", "pi=3.14"])
/// // message.args == ["hello world", 42], message.kwargs == ["pi": 3.14]
/// ```
public struct MessageArguments: Sendable, Equatable {
    public var args: [Value]
    public var kwargs: OrderedDictionary<String, Value>

    public init(args: [Value] = [], kwargs: OrderedDictionary<String, Value> = [:]) {
        self.args = args
        self.kwargs = kwargs
    }

    /// Parses the words; throws ``LiteralError`` for a bad literal, or
    /// ``CLIError`` when a positional argument follows a keyword argument.
    public init(parsing words: [String]) throws {
        self.init()
        for word in words {
            // `-3` is a literal; `--bogus` and `-x` are mistyped options (no literal starts so).
            if word.hasPrefix("-"), let second = word.dropFirst().first, second == "-" || second.isLetter {
                throw CLIError("Unknown option '\(word)'")
            }
            if let (key, literal) = Self.splitKeyword(word) {
                do {
                    kwargs[key] = try PythonLiteralParser.parse(literal)
                } catch {
                    // Point into the whole word, not just the part after '='.
                    throw LiteralError(text: word, column: error.column + key.unicodeScalars.count + 1, reason: error.reason)
                }
            } else {
                guard kwargs.isEmpty else {
                    throw CLIError("positional argument \(Value.string(word).pythonRepr) must come before the keyword arguments")
                }
                args.append(try PythonLiteralParser.parse(word))
            }
        }
    }

    /// `NAME=rest` where NAME is a Python identifier (rosy's `^([A-Za-z_][\w_]*)=(.*)$`).
    static func splitKeyword(_ word: String) -> (String, String)? {
        guard let equals = word.firstIndex(of: "=") else { return nil }
        let key = word[..<equals]
        guard let first = key.unicodeScalars.first, first == "_" || first.properties.isAlphabetic,
              key.unicodeScalars.allSatisfy({ $0 == "_" || $0.properties.isAlphabetic || $0.properties.numericType == .decimal })
        else { return nil }
        return (String(key), String(word[word.index(after: equals)...]))
    }
}
