import Rosy
import XCTest

final class NodeArgumentsTests: XCTestCase {
    func testReadsNameAndDomainAsRosyLaunchPassesThem() {
        let parsed = NodeArguments(["prog", "--verbose", "--name", "planner", "--domain-id=lab"], defaultName: "default-name")
        XCTAssertEqual(parsed.name, "planner")
        XCTAssertEqual(parsed.domainID, "lab")
    }

    func testFallsBackToTheDefaultName() {
        let parsed = NodeArguments(["prog"], defaultName: "topic_sender")
        XCTAssertEqual(parsed.name, "topic_sender")
        XCTAssertNil(parsed.domainID)
    }

    func testTheLastOccurrenceWins() {
        // rosy launch appends --name after the command's own arguments.
        let parsed = NodeArguments(["prog", "--name", "mine", "--name", "from-launch"], defaultName: "x")
        XCTAssertEqual(parsed.name, "from-launch")
    }
}
