import Foundation
import NIOCore
import RosyTestSupport
import RosyWire
import XCTest

@testable import RosyCLI

/// The literal parser and the repr printer, with Python's `ast.literal_eval` and `repr` as
/// the oracle.
final class PythonLiteralTests: XCTestCase {
    static let literals = [
        "'hello world'", "\"x\"", "'it\\'s'", "\"tab\\there\"", "'\\x41\\u00e9\\U0001F600\\n\\0'",
        "42", "-3", "+7", "0x1f", "-0x10", "0o17", "0b101", "1_000", "9223372036854775807", "-9223372036854775808",
        "3.14", "1e3", "-2.5e-3", ".5", "1.", "1e16", "1e-5", "0.0001", "123456789.125", "1e400",
        "True", "False", "None",
        "b'raw'", "b'\\x00\\xff\\n'", "rb'\\x00'", "r'a\\b'", "u'x'", "'a' 'b'", "'''tri'ple'''",
        "[1, 2]", "[]", "[1, [2, [3]]]", "(1, 'a')", "(1,)", "()", "(1)", "{'key': [1, 2]}", "{}",
        "{1, 2}", "set()", "{1: 'a', (1, 2): None, 'k': {'n': b''}}", "  [ 1 ,2 , ]  ", "'caf\u{e9}'",
        "\"a'b\"", "'a\"b'", "'\\u200b\\x7f'", "b'\"\\''", "{'a': 1, 'a': 2}",
    ]

    func testParsesAndPrintsAsPython() throws {
        // One Python run: repr(literal_eval(s)) per line.
        let script = """
        import ast, sys, json
        for s in json.load(sys.stdin):
            print(repr(ast.literal_eval(s)))
        """
        let input = try JSONSerialization.data(withJSONObject: Self.literals)
        let result = try TestSupport.runPython(script, input: input)
        XCTAssertEqual(result.status, 0, result.stderr)
        let expected = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
        XCTAssertEqual(expected.count, Self.literals.count)
        for (literal, python) in zip(Self.literals, expected) {
            let value = try PythonLiteralParser.parse(literal)
            // Sets print in insertion order here, in hash order in Python: compare as sets.
            if case .set = value {
                XCTAssertEqual(try PythonLiteralParser.parse(value.pythonRepr), try PythonLiteralParser.parse(python), literal)
            } else {
                XCTAssertEqual(value.pythonRepr, python, "literal \(literal)")
            }
        }
    }

    func testRejectsWhatPythonRejects() throws {
        let bad = ["hello", "[1, 2", "'unclosed", "1 2", "{'a' 1}", "2**3", "--5", "0x", "call:time.time()",
                   "[1,, 2]", "01", "'\\x4'", "b'\u{e9}'", "{'a': }", "(", "os.system('x')", "'a' b'b'"]
        let script = """
        import ast, sys, json
        for s in json.load(sys.stdin):
            try:
                ast.literal_eval(s); print("ok")
            except Exception:
                print("error")
        """
        let result = try TestSupport.runPython(script, input: try JSONSerialization.data(withJSONObject: bad))
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout.split(separator: "\n").map(String.init), Array(repeating: "error", count: bad.count))
        for literal in bad {
            XCTAssertThrowsError(try PythonLiteralParser.parse(literal), "literal \(literal)")
        }
        // Python has these, rosy's Value has no place for them: a clear error too.
        for literal in ["1j", "..."] {
            XCTAssertThrowsError(try PythonLiteralParser.parse(literal), "literal \(literal)")
        }
    }

    func testErrorPointsAtTheCharacter() {
        XCTAssertThrowsError(try PythonLiteralParser.parse("[1, 2 x]")) { error in
            guard let error = error as? LiteralError else { return XCTFail("\(error)") }
            XCTAssertEqual(error.column, 6)
            let lines = error.description.split(separator: "\n").map(String.init)
            XCTAssertEqual(lines.count, 3)
            XCTAssertEqual(lines[1], "  [1, 2 x]")
            XCTAssertEqual(lines[2], "        ^")
        }
        XCTAssertThrowsError(try PythonLiteralParser.parse("hello")) { error in
            XCTAssertEqual((error as? LiteralError)?.column, 0)
            XCTAssertTrue("\(error)".contains("not a Python literal"), "\(error)")
        }
    }

    func testKeywordArguments() throws {
        let message = try MessageArguments(parsing: ["'hello world'", "42", "-3", "pi=3.14", "data={'k': [1]}"])
        XCTAssertEqual(message.args, [.string("hello world"), .int(42), .int(-3)])
        XCTAssertEqual(Array(message.kwargs.keys), ["pi", "data"])
        XCTAssertEqual(message.kwargs["pi"], .double(3.14))
        XCTAssertEqual(message.kwargs["data"], .dict([.string("k"): .list([.int(1)])]))
        // '=' inside a literal is not a keyword.
        XCTAssertEqual(try MessageArguments(parsing: ["'a=b'"]).args, [.string("a=b")])
        XCTAssertThrowsError(try MessageArguments(parsing: ["k=1", "2"]))
        XCTAssertThrowsError(try MessageArguments(parsing: ["k=[1"])) { error in
            XCTAssertEqual((error as? LiteralError)?.column, 4)
        }
    }

    func testJSONTextReadsBackInPython() throws {
        let values: [Value] = [
            .dict([.string("args"): .list([.tuple([.double(1.5), .string("A\"\\\n\u{1}é")]), .none, .bool(true)]),
                   .string("kwargs"): .dict([.string("n"): .int(-7), .int(3): .set([.int(1)]), .string("b"): .bytes([0, 255])])]),
            .double(1e16), .double(-0.0), .double(.nan), .list([]),
        ]
        let script = """
        import json, sys
        for line in sys.stdin:
            print(json.dumps(json.loads(line), sort_keys=True))
        """
        let input = values.map(\.jsonText).joined(separator: "\n") + "\n"
        let result = try TestSupport.runPython(script, input: Data(input.utf8))
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, values.count)
        XCTAssertEqual(lines[0], #"{"args": [[1.5, "A\"\\\n\u0001\u00e9"], null, true], "kwargs": {"3": [1], "b": "AP8=", "n": -7}}"#)
        XCTAssertEqual(lines[1], "1e+16")
        XCTAssertEqual(lines[3], "null")
        // And our JSON reader reads what we write.
        for value in values.prefix(2) {
            var buffer = ByteBuffer(string: value.jsonText)
            XCTAssertEqual(try JSONCodec().decode(&buffer).jsonText, value.jsonText)
        }
    }
}

/// The echo and send blocks, against rosy's own `print_args_and_kwargs`.
final class RosyFormatTests: XCTestCase {
    func testArgsAndKwargsAsRosyPrintsThem() throws {
        let cases: [(args: [String], kwargs: [(String, String)])] = [
            (["'hello world'", "42", "(1, b'\\x00')"], [("pi", "3.14"), ("d", "{'k': [1, None]}")]),
            ([], []),
            ([], [("only", "'kw'")]),
            (["'multi\\nline'", "1e16", "-0.0", "{1: {2: ()}}"], []),
        ]
        for (args, kwargs) in cases {
            let script = """
            import ast, sys
            from rosy.cli.utils import print_args_and_kwargs
            args = [ast.literal_eval(a) for a in sys.argv[1].split("\\x1f") if a]
            kwargs = {k: ast.literal_eval(v) for k, v in (p.split("=", 1) for p in sys.argv[2].split("\\x1f") if p)}
            print_args_and_kwargs(args, kwargs)
            """
            let result = try TestSupport.runPython(script, [args.joined(separator: "\u{1f}"),
                                                            kwargs.map { "\($0)=\($1)" }.joined(separator: "\u{1f}")])
            XCTAssertEqual(result.status, 0, result.stderr)
            let ours = argsAndKwargsText(args: try args.map { try PythonLiteralParser.parse($0) },
                                         kwargs: Kwargs(uniqueKeysWithValues: try kwargs.map { ($0, try PythonLiteralParser.parse($1)) }))
            XCTAssertEqual(ours, result.stdout)
        }
    }
}
