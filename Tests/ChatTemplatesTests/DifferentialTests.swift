import ChatTemplates
import Foundation
import JSONSupport
import XCTest

/// Small templates rendered by ChatTemplate and by jinja2 in transformers' environment: random ones from the
/// reference script's grammar (expressions, filters, tests, methods, loops, whitespace control), and hand-picked
/// edge cases.
final class DifferentialTests: XCTestCase {
  /// Mismatches; a template ChatTemplate refuses as unsupported is counted in `refused`, not a mismatch, and so is
  /// one whose jinja2 render prints a Python object (`<generator object ... at 0x...>`).
  private func compare(
    _ cases: [(template: String, variables: [String: JSONValue])], _ reference: [JSONValue], refused: inout Int
  ) -> [String] {
    var failures: [String] = []
    for (c, expected) in zip(cases, reference) {
      let actual = Result {
        try ChatTemplate(source: c.template).render(
          c.variables.mapValues(TemplateValue.init), date: Date(timeIntervalSince1970: Reference.now))
      }
      if case let .failure(error) = actual, case .unsupported? = error as? ChatTemplateError {
        refused += 1
        continue
      }
      if case let .output(text) = Reference.Outcome(expected), text.contains(" object at 0x") {
        refused += 1
        continue
      }
      if let problem = Reference.mismatch(Reference.Outcome(expected), actual) {
        failures.append("template \(c.template.debugDescription): \(problem)")
      }
    }
    return failures
  }

  func testRandomTemplatesMatchJinja2() throws {
    let answer = try Reference.run(.object(["mode": .string("random"), "seed": .int(20_241_207), "count": .int(3000)]))
    guard case let .object(variables)? = answer["variables"] else { return XCTFail("no variables") }
    let cases = answer["cases"]!.arrayValue.map { (template: $0["template"]!.stringValue!, variables: variables) }
    var refused = 0
    let failures = compare(cases, answer["cases"]!.arrayValue, refused: &refused)
    print("DifferentialTests: \(cases.count) random templates, \(refused) refused as unsupported")
    XCTAssertLessThan(refused, cases.count / 20)
    XCTAssert(
      failures.isEmpty, "\(failures.count) of \(cases.count) differ:\n" + failures.prefix(20).joined(separator: "\n\n"))
  }

  static let snippets: [String] = [
    "{{ 'a' ~ 1 ~ none ~ true ~ 1.0 ~ [1, 'x'] ~ {'k': 'v'} }}",
    "{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % -3 }} {{ 2 ** 10 }} {{ 1 / 3 }} {{ 1e16 }} {{ 1.5e-7 }} {{ 0.1 + 0.2 }}",
    "{{ 10 / 4 }} {{ 3 * 'ab' }} {{ [1] * 2 }} {{ 5 - 7.5 }} {{ -(3) }} {{ true + 1 }}",
    "{{ [3, 1, 2] | sort | join(',') }} {{ ['b', 'A', 'c'] | sort }} {{ 'abc' | reverse }} {{ [1, 1, 2] | unique | list }}",
    "{{ '  x  ' | trim }}|{{ 'hello world' | title }}|{{ 'hELLO' | capitalize }}|{{ 'a-b c' | title }}",
    "{{ {'b': 1, 'a': [1, 2.5, none, true, 'é\"\\n']} | tojson }}",
    "{{ {'b': 1, 'a': [1, {'x': []}, {}]} | tojson(indent=2) }}",
    "{{ 'x' | tojson(ensure_ascii=true) }}{{ 'é😀' | tojson(ensure_ascii=true) }}{{ [1,2] | tojson(separators=(',', ':')) }}",
    "{{ 'a\\nb\\n\\nc' | indent(2) }}|{{ 'a\\nb' | indent(2, true) }}|{{ 'a\\n\\nb' | indent(width='> ', blank=true) }}",
    "{% for k, v in {'b': 1, 'a': 2}.items() %}{{ k }}={{ v }};{% endfor %}",
    "{% for x in [1, 2, 3] %}{{ loop.index }}{{ loop.revindex0 }}{{ loop.cycle('a', 'b') }}{% endfor %}",
    "{% for x in [1, 2, 3] if x != 2 %}{{ loop.length }}{{ x }}{% else %}none{% endfor %}",
    "{% for x in [] %}{{ x }}{% else %}empty{% endfor %}",
    "{% for x in range(5) %}{% if x == 3 %}{% break %}{% endif %}{% if x == 1 %}{% continue %}{% endif %}{{ x }}{% endfor %}",
    "{% set ns = namespace(n=0, s='') %}{% for x in 'abc' %}{% set ns.n = ns.n + 1 %}{% set ns.s = ns.s ~ x %}{% endfor %}{{ ns.n }}{{ ns.s }}",
    "{% set x = 1 %}{% for i in range(2) %}{% set x = x + 10 %}{{ x }}{% endfor %}{{ x }}",
    "{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('a') }} {{ greet('b', punct='?') }} {{ greet() }}",
    "{% set body %}inner {{ 1 + 1 }}{% endset %}[{{ body }}]",
    "{% filter upper %}shout {{ 'it' }}{% endfilter %}",
    "{% raw %}{{ not rendered }}{% endraw %}",
    "{{ 'abc'[1:] }}{{ 'abc'[::-1] }}{{ [1,2,3,4][1:3] }}{{ [1,2,3][-1] }}{{ 'abc'[-5:2] }}{{ [1,2,3,4,5][::2] }}",
    "{{ 'a,b,,c'.split(',') }} {{ ' a  b '.split() }} {{ 'a b c'.split(' ', 1) }} {{ 'xyx'.strip('x') }}",
    "{{ 'Hello'.startswith('He') }}{{ 'Hello'.endswith(('x', 'lo')) }}{{ 'aXa'.replace('a', 'b') }}{{ 'abc'.upper() }}",
    "{{ d.get('role') }} {{ d.get('nope', 'default') }} {{ d.get('nope') }} {{ d['role'] }} {{ d.role }}",
    "{{ d.keys() | list }} {{ d.values() | list }} {{ d | length }} {{ d.items() | list }}",
    "{{ missing is defined }} {{ missing is undefined }} {{ missing | default('fallback') }} {{ '' | default('e', true) }}",
    "{{ none is none }} {{ 1 is number }} {{ true is boolean }} {{ 'x' is string }} {{ {} is mapping }} {{ [] is iterable }}",
    "{{ 3 is odd }} {{ 4 is even }} {{ 9 is divisibleby 3 }} {{ 'a' in 'cat' }} {{ 2 not in [1, 3] }} {{ 'k' in {'k': 1} }}",
    "{{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 'a' < 'b' }} {{ [1, 2] < [1, 3] }} {{ 1 == 1.0 }} {{ none == none }}",
    "{{ 1 if true }}|{{ 1 if false }}|{{ 'y' if 0 else 'n' }}|{{ [] or 'empty' }}|{{ 'a' and 'b' }}",
    "{{ msgs | selectattr('role', 'equalto', 'user') | map(attribute='content') | join('+') }}",
    "{{ msgs | rejectattr('role', 'equalto', 'user') | list | length }} {{ msgs | map(attribute='role') | first }}",
    "{{ [1, 2, 3] | first }}{{ [1, 2, 3] | last }}{{ [-1.5] | first | abs }}{{ '3' | int + 1 }}{{ '2.5' | float }}{{ 'x' | int }}",
    "{{ [1, 2, 3] | sum }} {{ [3, 1] | min }} {{ [3, 1] | max }} {{ 2.567 | round(2) }} {{ 2.5 | round }} {{ 'a b c' | wordcount }}",
    "{{ 'x' ~ d.missing }}|{{ d.missing is defined }}",
    "  {% if true %}\n    kept\n  {% endif %}\n{{ 'end' }}\n",
    "a  {%- if true -%}  b  {%- endif -%}  c\n{{- ' d ' -}}\n e {#- note -#} f",
    "{%+ if true %}x{% endif +%}\n  {%+ if true %}y{% endif %}\n",
    "line1\r\nline2\r{{ 'x' }}\n\n",
    "{{ \"\\u00e9\\x41\\101\\t\\\\ \\q\" }}{{ 'a' 'b' }}",
    "{{ range(3) | list }}{{ range(1, 10, 3) | list }}{{ range(5, 0, -2) | list }}",
    "{{ raise_exception('boom: ' ~ 1) }}",
    "{{ missing.attr }}",
    "{{ 1 + 'a' }}",
    "{{ 1 / 0 }}",
    "{% for a, b in [[1, 2], [3]] %}{{ a }}{% endfor %}",
    "{{ strftime_now('%Y-%m-%d %H %b %B %A %a %j') }}",
    "{{ [1, 2, 3] | batch(2) | list }}"
  ]

  func testSnippetsMatchJinja2() throws {
    let variables: [String: JSONValue] = [
      "d": .object(["content": .string("hi"), "role": .string("user")]),
      "msgs": .array([
        .object(["content": .string("s"), "role": .string("system")]),
        .object(["content": .string("u1"), "role": .string("user")]),
        .object(["content": .string("a1"), "role": .string("assistant")]),
        .object(["content": .string("u2"), "role": .string("user")])
      ])
    ]
    // strftime_now reads the reference's real clock in snippet mode: skip the date snippet there.
    let cases = DifferentialTests.snippets.filter { !$0.contains("strftime_now") && !$0.contains("batch") }
      .map { (template: $0, variables: variables) }
    let requests = cases.map { c -> JSONValue in
      .object(["template": .string(c.template), "variables": .object(c.variables)])
    }
    let reference = try Reference.run(.object(["mode": .string("snippets"), "cases": .array(requests)])).arrayValue
    var refused = 0
    let failures = compare(cases, reference, refused: &refused)
    XCTAssertEqual(refused, 0)
    XCTAssert(failures.isEmpty, "\(failures.count) of \(cases.count) differ:\n" + failures.joined(separator: "\n\n"))
  }
}
