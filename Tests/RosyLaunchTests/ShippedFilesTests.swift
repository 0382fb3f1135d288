import Foundation
@testable import RosyLaunch
import RosyTestSupport
import XCTest

/// launch/template.yaml and launch/demo.yaml are valid, and the template documents every key.
final class ShippedFilesTests: XCTestCase {
    func testTemplateIsValidAndDocumentsEveryKey() throws {
        let path = TestSupport.packageRoot.appendingPathComponent("launch/template.yaml").path
        _ = try LaunchConfigLoader().load(path: path)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let keys = LaunchConfigLoader.topLevelKeys + LaunchConfigLoader.nodeKeys + LaunchConfigLoader.backoffKeys
            + LaunchConfigLoader.waitForKeys
        for key in keys {
            XCTAssertTrue(text.contains("\(key):"), "template.yaml does not document '\(key)'")
        }
    }

    func testDemoFileIsValid() throws {
        let path = TestSupport.packageRoot.appendingPathComponent("launch/demo.yaml").path
        let config = try LaunchConfigLoader().load(path: path)
        XCTAssertEqual(config.nodes.map(\.name), ["topic_listener", "service_provider", "topic_sender", "service_caller"])
    }

    func testManPagesDocumentEveryKey() throws {
        let path = TestSupport.packageRoot.appendingPathComponent("man/rosy-launch.yaml.5").path
        let text = try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(of: "\\_", with: "_")
        for key in LaunchConfigLoader.topLevelKeys + LaunchConfigLoader.nodeKeys {
            XCTAssertTrue(text.contains(key), "rosy-launch.yaml.5 does not document '\(key)'")
        }
    }
}
