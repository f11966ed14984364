import Foundation
import XCTest

/// container/entrypoint.sh (the image's entry point), run here with a fake environment: stub `jupyter`, `sshd`,
/// `ssh-keygen` and `tensorboard` on PATH record how they were started, and the secrets folder is a temp folder.
final class ContainerEntrypointTests: XCTestCase {
  var dir: URL!
  var stubs: URL { dir.appendingPathComponent("stubs") }
  var secrets: URL { dir.appendingPathComponent("secrets") }
  var state: URL { dir.appendingPathComponent("state") }

  static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("container/entrypoint.sh").path
  static let key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOZbd0tAzm0kXw7I3dFv0m4nq+7Y8I7v1l4C0m2T5mYQ user@laptop"

  override func setUpWithError() throws {
    dir = FileManager.default.temporaryDirectory.appendingPathComponent("entrypoint-\(UUID().uuidString)")
    for d in [stubs, secrets] { try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true) }
    let record = """
      #!/bin/sh
      { echo "argv:$*"; echo "JUPYTER_TOKEN=${JUPYTER_TOKEN-<unset>}"; echo "JUPYTER_TOKEN_FILE=${JUPYTER_TOKEN_FILE-<unset>}"; } \
        > "$STUB_LOG_DIR/$(basename "$0").log"
      """
    let keygen = """
      #!/bin/sh
      f=""; l=""
      while [ $# -gt 0 ]; do case "$1" in -f) f="$2"; shift ;; -l) l=1 ;; esac; shift; done
      if [ -n "$l" ]; then echo "256 SHA256:stub torchswift-container (ED25519)"; else echo private > "$f"; echo "ssh-ed25519 AAAAhost" > "$f.pub"; fi
      """
    for (name, text) in [("jupyter", record), ("sshd", record), ("tensorboard", record), ("ssh-keygen", keygen)] {
      let p = stubs.appendingPathComponent(name).path
      try (text + "\n").write(toFile: p, atomically: true, encoding: .utf8)
      try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: p)
    }
  }

  override func tearDownWithError() throws {
    try? FileManager.default.removeItem(at: dir)
  }

  struct Run {
    var status: Int32
    var stdout: String
    var stderr: String
  }

  /// Runs the entry point with only `env` (plus PATH with the stubs first, HOME, the secrets and state folders).
  func run(_ args: [String], _ env: [String: String] = [:]) throws -> Run {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/bash")
    p.arguments = [Self.script] + args
    var e = [
      "PATH": "\(stubs.path):/usr/bin:/bin", "HOME": dir.path, "STUB_LOG_DIR": dir.path,
      "TORCHSWIFT_SECRETS_DIR": secrets.path, "TORCHSWIFT_STATE_DIR": state.path
    ]
    e.merge(env) { $1 }
    p.environment = e
    let out = dir.appendingPathComponent("out.txt"), err = dir.appendingPathComponent("err.txt")
    FileManager.default.createFile(atPath: out.path, contents: nil)
    FileManager.default.createFile(atPath: err.path, contents: nil)
    p.standardOutput = try FileHandle(forWritingTo: out)
    p.standardError = try FileHandle(forWritingTo: err)
    try p.run()
    p.waitUntilExit()
    return Run(
      status: p.terminationStatus, stdout: try String(contentsOf: out, encoding: .utf8),
      stderr: try String(contentsOf: err, encoding: .utf8))
  }

  /// What a stub recorded (nil when it was not started).
  func stubLog(_ name: String) -> String? {
    try? String(contentsOfFile: dir.appendingPathComponent("\(name).log").path, encoding: .utf8)
  }

  func stubValue(_ name: String, _ key: String) -> String? {
    stubLog(name)?.split(separator: "\n").first { $0.hasPrefix(key + "=") || $0.hasPrefix(key + ":") }
      .map { String($0.dropFirst(key.count + 1)) }
  }

  // MARK: jupyter

  func testJupyterGeneratesAndPrintsARandomTokenWhenNoneIsGiven() throws {
    var tokens: [String] = []
    for _ in 0..<2 {
      let r = try run(["jupyter"])
      XCTAssertEqual(r.status, 0, r.stderr)
      let printed = try XCTUnwrap(
        r.stdout.range(of: #"token=[0-9a-f]+"#, options: .regularExpression).map { String(r.stdout[$0].dropFirst(6)) },
        "no URL with a token in: \(r.stdout)")
      XCTAssertEqual(printed.count, 48)
      XCTAssertEqual(stubValue("jupyter", "JUPYTER_TOKEN"), printed, "jupyter must get the printed token")
      tokens.append(printed)
    }
    XCTAssertNotEqual(tokens[0], tokens[1], "two starts must not share a token")
  }

  func testJupyterEmptyTokenVariableStillGetsARandomToken() throws {
    let r = try run(["jupyter"], ["JUPYTER_TOKEN": ""])
    XCTAssertEqual(r.status, 0, r.stderr)
    XCTAssertEqual(stubValue("jupyter", "JUPYTER_TOKEN")?.count, 48)
  }

  func testJupyterTokenFromEnvironmentIsUsedAndNotPrinted() throws {
    let r = try run(["jupyter"], ["JUPYTER_TOKEN": "my-own-token-123"])
    XCTAssertEqual(r.status, 0, r.stderr)
    XCTAssertEqual(stubValue("jupyter", "JUPYTER_TOKEN"), "my-own-token-123")
    XCTAssertFalse(r.stdout.contains("my-own-token-123"), "a given token is not echoed to the logs")
    XCTAssertTrue(r.stdout.contains("token from JUPYTER_TOKEN"), r.stdout)
  }

  func testJupyterTokenFromFileAndSecret() throws {
    let file = dir.appendingPathComponent("token.txt").path
    try "  s3cret-from-file \n second line\n".write(toFile: file, atomically: true, encoding: .utf8)
    var r = try run(["jupyter"], ["JUPYTER_TOKEN_FILE": file])
    XCTAssertEqual(r.status, 0, r.stderr)
    XCTAssertEqual(stubValue("jupyter", "JUPYTER_TOKEN"), "s3cret-from-file")
    XCTAssertEqual(stubValue("jupyter", "JUPYTER_TOKEN_FILE"), "<unset>")

    try "docker-secret\n".write(
      toFile: secrets.appendingPathComponent("jupyter_token").path, atomically: true, encoding: .utf8)
    r = try run(["jupyter"])
    XCTAssertEqual(r.status, 0, r.stderr)
    XCTAssertEqual(stubValue("jupyter", "JUPYTER_TOKEN"), "docker-secret")
    XCTAssertTrue(r.stdout.contains(secrets.path + "/jupyter_token"), r.stdout)
  }

  func testJupyterRefusesEmptyOrMissingTokenSources() throws {
    let empty = dir.appendingPathComponent("empty.txt").path
    try " \n\n".write(toFile: empty, atomically: true, encoding: .utf8)
    let cases: [([String], [String: String], String)] = [
      (["jupyter"], ["JUPYTER_TOKEN_FILE": empty], "\(empty) is empty"),
      (["jupyter"], ["JUPYTER_TOKEN_FILE": dir.path + "/missing"], "cannot read \(dir.path)/missing"),
      (["jupyter"], ["JUPYTER_TOKEN": "   "], "JUPYTER_TOKEN is blank"),
      (["jupyter", "--ServerApp.token="], [:], "not on the command line"),
      (["jupyter", "--IdentityProvider.token=''"], [:], "not on the command line"),
      (["jupyter", "--NotebookApp.token", ""], [:], "not on the command line")
    ]
    for (args, env, message) in cases {
      try? FileManager.default.removeItem(at: dir.appendingPathComponent("jupyter.log"))
      let r = try run(args, env)
      XCTAssertEqual(r.status, 2, "\(args) \(env)")
      XCTAssertTrue(r.stderr.contains(message), "\(args) \(env): \(r.stderr)")
      XCTAssertNil(stubLog("jupyter"), "jupyter must not start: \(args) \(env)")
    }
    // An empty secret file is refused too (not skipped in favour of a random token nobody knows about).
    try "".write(toFile: secrets.appendingPathComponent("jupyter_token").path, atomically: true, encoding: .utf8)
    let r = try run(["jupyter"])
    XCTAssertEqual(r.status, 2)
    XCTAssertNil(stubLog("jupyter"))
  }

  func testJupyterArgumentsAndListenAddress() throws {
    var r = try run(["jupyter", "--ServerApp.base_url=/lab-proxy/"])
    XCTAssertEqual(r.status, 0, r.stderr)
    XCTAssertEqual(
      stubValue("jupyter", "argv"),
      "lab --no-browser --ip=0.0.0.0 --port=8888 --ServerApp.root_dir=/workspace --ServerApp.base_url=/lab-proxy/")
    r = try run(["jupyter"], ["JUPYTER_IP": "127.0.0.1", "JUPYTER_PORT": "9999", "JUPYTER_ROOT": "/tmp"])
    XCTAssertEqual(r.status, 0, r.stderr)
    XCTAssertEqual(
      stubValue("jupyter", "argv"), "lab --no-browser --ip=127.0.0.1 --port=9999 --ServerApp.root_dir=/tmp")
  }

  // MARK: ssh

  func testSSHWithoutAKeyFailsClearly() throws {
    let r = try run(["ssh"])
    XCTAssertEqual(r.status, 2)
    XCTAssertTrue(r.stderr.contains("no public key given"), r.stderr)
    XCTAssertTrue(r.stderr.contains("password login is disabled"), r.stderr)
    XCTAssertTrue(r.stderr.contains("SSH_AUTHORIZED_KEYS"), r.stderr)
    XCTAssertTrue(r.stderr.contains("\(secrets.path)/authorized_keys"), r.stderr)
    XCTAssertNil(stubLog("sshd"))
  }

  func testSSHKeyFileWithoutKeysFailsNamingIt() throws {
    let file = dir.appendingPathComponent("keys.txt").path
    try "# just a comment\nnot a key\n".write(toFile: file, atomically: true, encoding: .utf8)
    var r = try run(["ssh"], ["SSH_AUTHORIZED_KEYS_FILE": file])
    XCTAssertEqual(r.status, 2)
    XCTAssertTrue(r.stderr.contains("no public key in \(file)"), r.stderr)
    XCTAssertNil(stubLog("sshd"))
    r = try run(["ssh"], ["SSH_AUTHORIZED_KEYS_FILE": dir.path + "/nope"])
    XCTAssertEqual(r.status, 2)
    XCTAssertTrue(r.stderr.contains("cannot read SSH_AUTHORIZED_KEYS_FILE=\(dir.path)/nope"), r.stderr)
    r = try run(["ssh", "-p", "22"], ["SSH_AUTHORIZED_KEYS": Self.key])
    XCTAssertEqual(r.status, 2)
    XCTAssertTrue(r.stderr.contains("ssh takes no arguments"), r.stderr)
    XCTAssertNil(stubLog("sshd"))
  }

  func testSSHWithAKeyFromTheEnvironmentStartsAPublicKeyOnlyServer() throws {
    let r = try run(["ssh"], ["SSH_AUTHORIZED_KEYS": Self.key, "SSH_PORT": "2200", "SSH_LISTEN": "127.0.0.1"])
    XCTAssertEqual(r.status, 0, r.stderr)
    let config = state.appendingPathComponent("sshd_config").path
    XCTAssertEqual(stubValue("sshd", "argv"), "-D -e -f \(config)")
    let text = try String(contentsOfFile: config, encoding: .utf8)
    for expected in [
      "Port 2200", "ListenAddress 127.0.0.1", "PubkeyAuthentication yes", "PasswordAuthentication no",
      "KbdInteractiveAuthentication no", "PermitEmptyPasswords no", "PermitRootLogin no", "UsePAM no",
      "AuthorizedKeysFile \(state.path)/authorized_keys", "HostKey \(state.path)/ssh_host_ed25519_key"
    ] {
      XCTAssertTrue(
        text.split(separator: "\n").contains(Substring(expected)), "sshd_config lacks '\(expected)':\n\(text)")
    }
    let keys = state.appendingPathComponent("authorized_keys").path
    XCTAssertEqual(try String(contentsOfFile: keys, encoding: .utf8), Self.key + "\n")
    let mode = try FileManager.default.attributesOfItem(atPath: keys)[.posixPermissions] as? Int
    XCTAssertEqual(mode, 0o600)
    XCTAssertTrue(FileManager.default.fileExists(atPath: state.appendingPathComponent("ssh_host_ed25519_key").path))
  }

  func testSSHKeyFromAMountedSecretKeepsOnlyKeyLines() throws {
    try "# my laptop\n\n\(Self.key)\ngarbage line\n".write(
      toFile: secrets.appendingPathComponent("authorized_keys").path, atomically: true, encoding: .utf8)
    let r = try run(["ssh"])
    XCTAssertEqual(r.status, 0, r.stderr)
    XCTAssertTrue(r.stdout.contains("1 key(s) from \(secrets.path)/authorized_keys"), r.stdout)
    XCTAssertEqual(
      try String(contentsOfFile: state.appendingPathComponent("authorized_keys").path, encoding: .utf8), Self.key + "\n"
    )
  }

  // MARK: other subcommands

  func testTensorBoardDefaults() throws {
    let logs = dir.appendingPathComponent("runs").path
    let r = try run(["tensorboard", "--reload_interval", "5"], ["TENSORBOARD_LOGDIR": logs])
    XCTAssertEqual(r.status, 0, r.stderr)
    XCTAssertEqual(stubValue("tensorboard", "argv"), "--logdir \(logs) --host 0.0.0.0 --port 6006 --reload_interval 5")
  }

  func testAnyOtherCommandRunsAsItself() throws {
    var r = try run(["echo", "hello", "from the image"])
    XCTAssertEqual(r.status, 0)
    XCTAssertEqual(r.stdout, "hello from the image\n")
    r = try run(["sh", "-c", "exit 7"])
    XCTAssertEqual(r.status, 7)
    r = try run(["no-such-program-xyz"])
    XCTAssertEqual(r.status, 127)
  }

  func testNoArgumentsPrintsUsage() throws {
    let r = try run([])
    XCTAssertEqual(r.status, 2)
    for word in ["jupyter", "ssh", "tensorboard", "shell", "JUPYTER_TOKEN"] {
      XCTAssertTrue(r.stderr.contains(word), "usage lacks \(word): \(r.stderr)")
    }
  }
}
