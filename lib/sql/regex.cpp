#include "sql/regex.hpp"

#include <iotblocks/core/bytes.hpp>

#include <algorithm>
#include <optional>

namespace iotblocks::sql::detail {
namespace {

constexpr std::size_t npos = static_cast<std::size_t>(-1);

enum class iop : std::uint8_t {
  ch,
  any,
  cls,
  split,
  jmp,
  save,
  match,
  bol,
  eol,
  wordb,
  nwordb,
  begin_text,
  end_text,
  end_z
};

struct inst {
  iop code;
  bool fold = false;    // ch: ASCII case-insensitive
  bool flag = false;    // any: dotall; bol/eol: multiline
  std::uint32_t a = 0;  // char, class index, target, slot
  std::uint32_t b = 0;  // split: second target
};

struct range {
  char32_t lo, hi;
};

struct char_class {
  std::vector<range> ranges;  // sorted, merged
  bool negate = false;
  bool matches(char32_t c) const noexcept {
    const auto it = std::upper_bound(ranges.begin(), ranges.end(), c,
                                     [](char32_t v, const range& r) { return v < r.lo; });
    const bool in = it != ranges.begin() && c <= (it - 1)->hi;
    return in != negate;
  }
};

void normalise(std::vector<range>& r) {
  std::sort(r.begin(), r.end(), [](const range& a, const range& b) { return a.lo < b.lo; });
  std::vector<range> out;
  for (const auto& x : r) {
    if (!out.empty() && x.lo <= out.back().hi + 1) {
      out.back().hi = std::max(out.back().hi, x.hi);
    } else {
      out.push_back(x);
    }
  }
  r = std::move(out);
}

std::vector<range> complement(std::vector<range> r) {
  normalise(r);
  std::vector<range> out;
  char32_t next = 0;
  for (const auto& x : r) {
    if (x.lo > next) out.push_back({next, x.lo - 1});
    next = x.hi + 1;
  }
  if (next <= 0x10FFFF) out.push_back({next, 0x10FFFF});
  return out;
}

// Decodes the UTF-8 code point at s[i] (input is valid UTF-8 in practice; bad
// bytes decode as themselves).
char32_t decode(std::string_view s, std::size_t i, std::size_t& len) noexcept {
  const auto c = static_cast<unsigned char>(s[i]);
  auto cont = [&](std::size_t k) {
    return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) & 0x3Fu : 0u;
  };
  if (c < 0x80) return len = 1, c;
  if (c >= 0xF0 && i + 3 < s.size()) {
    len = 4;
    return ((c & 0x07u) << 18) | (cont(1) << 12) | (cont(2) << 6) | cont(3);
  }
  if (c >= 0xE0 && i + 2 < s.size()) {
    len = 3;
    return ((c & 0x0Fu) << 12) | (cont(1) << 6) | cont(2);
  }
  if (c >= 0xC0 && i + 1 < s.size()) {
    len = 2;
    return ((c & 0x1Fu) << 6) | cont(1);
  }
  return len = 1, c;
}

bool is_word(char32_t c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}
bool is_line_term(char32_t c) noexcept {
  return c == '\n' || c == '\r' || c == 0x85 || c == 0x2028 || c == 0x2029;
}
char32_t fold(char32_t c) noexcept { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

// --- syntax tree -----------------------------------------------------------------
enum class nk : std::uint8_t { empty, ch, any, cls, cat, alt, rep, group, assert_ };

struct rnode {
  nk kind = nk::empty;
  char32_t c = 0;
  bool fold = false;
  bool flag = false;
  std::uint32_t cls = 0;
  iop assertion = iop::bol;
  int group = -1;                  // capture index, -1 non-capturing
  std::uint32_t min = 0, max = 0;  // rep; max == UINT32_MAX: unbounded
  bool greedy = true;
  std::vector<std::unique_ptr<rnode>> kids;
};
using rptr = std::unique_ptr<rnode>;
constexpr std::uint32_t unbounded = 0xFFFFFFFFu;

struct flags {
  bool i = false, m = false, s = false;
};

class rparser {
 public:
  explicit rparser(std::string_view p) : p_(p) {}
  std::string error;
  std::vector<char_class> classes;
  int groups = 0;
  std::vector<std::pair<std::string, int>> names;

  rptr parse() {
    flags f;
    auto r = alt(f, 0);
    if (!error.empty()) return nullptr;
    if (i_ < p_.size()) return fail("unmatched ')'");
    return r;
  }

 private:
  rptr fail(std::string msg) {
    if (error.empty()) error = std::move(msg);
    return nullptr;
  }
  bool more() const { return i_ < p_.size(); }
  char32_t peek() {
    std::size_t l = 0;
    return decode(p_, i_, l);
  }
  char32_t take() {
    std::size_t l = 0;
    const char32_t c = decode(p_, i_, l);
    i_ += l;
    return c;
  }
  rptr make(nk k) {
    auto n = std::make_unique<rnode>();
    n->kind = k;
    return n;
  }

  rptr alt(flags& f, std::size_t depth) {
    if (depth > regex_limits::max_nesting) return fail("pattern nests too deeply");
    auto first = cat(f, depth);
    if (!first) return nullptr;
    if (!more() || peek() != '|') return first;
    auto n = make(nk::alt);
    n->kids.push_back(std::move(first));
    while (more() && peek() == '|') {
      take();
      auto k = cat(f, depth);
      if (!k) return nullptr;
      n->kids.push_back(std::move(k));
    }
    return n;
  }

  rptr cat(flags& f, std::size_t depth) {
    auto n = make(nk::cat);
    while (more() && peek() != '|' && peek() != ')') {
      auto a = atom(f, depth);
      if (!a) {
        if (!error.empty()) return nullptr;
        continue;  // a flag group such as (?i) produces no node
      }
      a = quant(std::move(a));
      if (!a) return nullptr;
      n->kids.push_back(std::move(a));
    }
    return n;
  }

  bool number(std::uint32_t& v) {
    const std::size_t s = i_;
    std::uint64_t x = 0;
    while (more() && peek() >= '0' && peek() <= '9') {
      x = x * 10 + (take() - '0');
      if (x > 100000) return false;
    }
    v = static_cast<std::uint32_t>(x);
    return i_ > s;
  }

  rptr quant(rptr a) {
    if (!more()) return a;
    std::uint32_t lo = 0, hi = 0;
    const char32_t c = peek();
    if (c == '*') {
      take();
      lo = 0, hi = unbounded;
    } else if (c == '+') {
      take();
      lo = 1, hi = unbounded;
    } else if (c == '?') {
      take();
      lo = 0, hi = 1;
    } else if (c == '{') {
      const std::size_t save = i_;
      take();
      if (!number(lo)) {
        i_ = save;
        return a;  // a literal '{' (Java rejects it; be lenient)
      }
      hi = lo;
      if (more() && peek() == ',') {
        take();
        hi = unbounded;
        if (more() && peek() != '}' && !number(hi)) return fail("bad repetition");
      }
      if (!more() || take() != '}') return fail("bad repetition");
      if (hi < lo) return fail("bad repetition range");
    } else {
      return a;
    }
    if (a->kind == nk::assert_ || a->kind == nk::empty) return fail("nothing to repeat");
    auto r = make(nk::rep);
    r->min = lo;
    r->max = hi;
    if (more() && peek() == '?') {
      take();
      r->greedy = false;
    } else if (more() && peek() == '+') {
      take();  // possessive: matched greedily
    }
    r->kids.push_back(std::move(a));
    if (more() && (peek() == '*' || peek() == '+' || peek() == '?'))
      return fail("dangling quantifier");
    return r;
  }

  bool escape_char(char32_t e, char32_t& out) {
    switch (e) {
      case 't': out = '\t'; return true;
      case 'n': out = '\n'; return true;
      case 'r': out = '\r'; return true;
      case 'f': out = '\f'; return true;
      case 'a': out = 7; return true;
      case 'e': out = 27; return true;
      case '0': {
        std::uint32_t v = 0;
        int k = 0;
        while (k < 3 && more() && peek() >= '0' && peek() <= '7') v = v * 8 + (take() - '0'), ++k;
        if (k == 0) return false;
        out = v;
        return true;
      }
      case 'x':
      case 'u': {
        std::uint32_t v = 0;
        int digits = e == 'x' ? 2 : 4;
        bool braces = false;
        if (e == 'x' && more() && peek() == '{') {
          take();
          braces = true;
          digits = 8;
        }
        int k = 0;
        while (k < digits && more()) {
          const char32_t h = peek();
          const int d = h < 0x80 ? hex_digit_value(static_cast<char>(h)) : -1;
          if (d < 0) break;
          take();
          v = v * 16 + static_cast<std::uint32_t>(d);
          ++k;
        }
        if (braces && (!more() || take() != '}')) return false;
        if (k == 0 || (!braces && k != digits) || v > 0x10FFFF) return false;
        out = v;
        return true;
      }
      default:
        if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || (e >= '0' && e <= '9')) {
          return false;
        }
        out = e;
        return true;
    }
  }

  // Predefined classes \d \w \s and their negations.
  bool predefined(char32_t e, std::vector<range>& r) {
    std::vector<range> base;
    switch (e | 0x20) {
      case 'd': base = {{'0', '9'}}; break;
      case 'w': base = {{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}}; break;
      case 's': base = {{'\t', '\r'}, {' ', ' '}}; break;
      default: return false;
    }
    if (e >= 'A' && e <= 'Z') base = complement(base);
    r.insert(r.end(), base.begin(), base.end());
    return true;
  }

  rptr class_node(std::vector<range> r, bool negate, const flags& f) {
    if (f.i) {
      std::vector<range> extra;
      for (const auto& x : r) {
        for (char32_t c = std::max<char32_t>(x.lo, 'A'); c <= std::min<char32_t>(x.hi, 'Z'); ++c) {
          extra.push_back({c + 32, c + 32});
        }
        for (char32_t c = std::max<char32_t>(x.lo, 'a'); c <= std::min<char32_t>(x.hi, 'z'); ++c) {
          extra.push_back({c - 32, c - 32});
        }
      }
      r.insert(r.end(), extra.begin(), extra.end());
    }
    normalise(r);
    classes.push_back({std::move(r), negate});
    auto n = make(nk::cls);
    n->cls = static_cast<std::uint32_t>(classes.size() - 1);
    return n;
  }

  rptr bracket(const flags& f) {
    bool negate = false;
    if (more() && peek() == '^') {
      take();
      negate = true;
    }
    std::vector<range> r;
    bool first = true;
    while (true) {
      if (!more()) return fail("unterminated character class");
      char32_t c = take();
      if (c == ']' && !first) break;
      first = false;
      if (c == '[') return fail("nested character classes are not supported");
      if (c == '&' && more() && peek() == '&') return fail("class intersection is not supported");
      if (c == '\\') {
        if (!more()) return fail("trailing backslash");
        const char32_t e = take();
        if (predefined(e, r)) continue;
        if (!escape_char(e, c)) return fail("unsupported escape in class");
      }
      char32_t hi = c;
      if (more() && peek() == '-' && i_ + 1 < p_.size() && p_[i_ + 1] != ']') {
        take();
        hi = take();
        if (hi == '\\') {
          if (!more()) return fail("trailing backslash");
          if (!escape_char(take(), hi)) return fail("unsupported escape in class");
        }
        if (hi < c) return fail("bad class range");
      }
      r.push_back({c, hi});
    }
    return class_node(std::move(r), negate, f);
  }

  rptr atom(flags& f, std::size_t depth) {
    const char32_t c = take();
    switch (c) {
      case '.': {
        auto n = make(nk::any);
        n->flag = f.s;
        return n;
      }
      case '^':
      case '$': {
        auto n = make(nk::assert_);
        n->assertion = c == '^' ? iop::bol : iop::eol;
        n->flag = f.m;
        return n;
      }
      case '[': return bracket(f);
      case '(': {
        int group = -1;
        flags inner = f;
        if (more() && peek() == '?') {
          take();
          if (!more()) return fail("bad group");
          const char32_t k = peek();
          if (k == ':') {
            take();
          } else if (k == '<' && i_ + 1 < p_.size() && p_[i_ + 1] != '=' && p_[i_ + 1] != '!') {
            take();
            std::string name;
            while (more() && peek() != '>') name += static_cast<char>(take());
            if (!more() || name.empty()) return fail("bad group name");
            take();
            group = ++groups;
            names.emplace_back(std::move(name), group);
          } else if (k == '=' || k == '!' || k == '<' || k == '>') {
            return fail("lookaround and atomic groups are not supported");
          } else {
            // Inline flags: (?imsx-imsx) or (?imsx-imsx: ... )
            bool on = true;
            flags nf = f;
            while (more() && peek() != ')' && peek() != ':') {
              const char32_t fl = take();
              if (fl == '-') {
                on = false;
              } else if (fl == 'i') {
                nf.i = on;
              } else if (fl == 'm') {
                nf.m = on;
              } else if (fl == 's') {
                nf.s = on;
              } else if (fl == 'x' || fl == 'u' || fl == 'd' || fl == 'U') {
                // accepted, no effect
              } else {
                return fail("unknown inline flag");
              }
            }
            if (!more()) return fail("bad group");
            if (take() == ')') {
              f = nf;  // applies to the rest of the enclosing group
              return nullptr;
            }
            inner = nf;
          }
        } else {
          group = ++groups;
        }
        auto body = alt(inner, depth + 1);
        if (!body) return nullptr;
        if (!more() || take() != ')') return fail("missing ')'");
        auto n = make(nk::group);
        n->group = group;
        n->kids.push_back(std::move(body));
        return n;
      }
      case ')': return fail("unmatched ')'");
      case '*':
      case '+':
      case '?': return fail("nothing to repeat");
      case '\\': {
        if (!more()) return fail("trailing backslash");
        const char32_t e = take();
        std::vector<range> r;
        if (predefined(e, r)) return class_node(std::move(r), false, f);
        auto assertion = [&](iop a) {
          auto n = make(nk::assert_);
          n->assertion = a;
          return n;
        };
        switch (e) {
          case 'b': return assertion(iop::wordb);
          case 'B': return assertion(iop::nwordb);
          case 'A': return assertion(iop::begin_text);
          case 'z': return assertion(iop::end_text);
          case 'Z': return assertion(iop::end_z);
          case 'Q': {
            auto n = make(nk::cat);
            while (more()) {
              if (peek() == '\\' && i_ + 1 < p_.size() && p_[i_ + 1] == 'E') {
                i_ += 2;
                break;
              }
              auto l = make(nk::ch);
              l->c = take();
              l->fold = f.i;
              n->kids.push_back(std::move(l));
            }
            return n;
          }
          default: break;
        }
        if (e >= '1' && e <= '9') return fail("backreferences are not supported");
        if (e == 'k' || e == 'p' || e == 'P' || e == 'G' || e == 'R' || e == 'X' || e == 'c') {
          return fail("unsupported escape");
        }
        char32_t lit = 0;
        if (!escape_char(e, lit)) return fail("unsupported escape");
        auto n = make(nk::ch);
        n->c = lit;
        n->fold = f.i;
        return n;
      }
      default: {
        auto n = make(nk::ch);
        n->c = c;
        n->fold = f.i;
        return n;
      }
    }
  }

  std::string_view p_;
  std::size_t i_ = 0;
};

}  // namespace

struct regex_program {
  std::vector<inst> code;
  std::vector<char_class> classes;
  std::size_t groups = 0;
  std::vector<std::pair<std::string, int>> names;
};

namespace {

class emitter {
 public:
  explicit emitter(regex_program& p) : p_(p) {}
  bool overflow = false;

  std::uint32_t pc() const { return static_cast<std::uint32_t>(p_.code.size()); }
  std::uint32_t emit(inst i) {
    if (p_.code.size() >= regex_limits::max_program) {
      overflow = true;
      return pc();
    }
    p_.code.push_back(i);
    return pc() - 1;
  }

  void gen(const rnode& n) {
    if (overflow) return;
    switch (n.kind) {
      case nk::empty: return;
      case nk::ch:
        emit({iop::ch, n.fold, false, static_cast<std::uint32_t>(n.fold ? fold(n.c) : n.c), 0});
        return;
      case nk::any: emit({iop::any, false, n.flag, 0, 0}); return;
      case nk::cls: emit({iop::cls, false, false, n.cls, 0}); return;
      case nk::assert_: emit({n.assertion, false, n.flag, 0, 0}); return;
      case nk::cat:
        for (const auto& k : n.kids) gen(*k);
        return;
      case nk::alt: {
        std::vector<std::uint32_t> jumps;
        for (std::size_t i = 0; i < n.kids.size(); ++i) {
          if (i + 1 < n.kids.size()) {
            const auto s = emit({iop::split, false, false, 0, 0});
            if (overflow) return;
            p_.code[s].a = pc();
            gen(*n.kids[i]);
            jumps.push_back(emit({iop::jmp, false, false, 0, 0}));
            if (overflow) return;
            p_.code[s].b = pc();
          } else {
            gen(*n.kids[i]);
          }
        }
        for (auto j : jumps) {
          if (!overflow) p_.code[j].a = pc();
        }
        return;
      }
      case nk::group:
        if (n.group >= 0)
          emit({iop::save, false, false, static_cast<std::uint32_t>(2 * n.group), 0});
        gen(*n.kids[0]);
        if (n.group >= 0)
          emit({iop::save, false, false, static_cast<std::uint32_t>(2 * n.group + 1), 0});
        return;
      case nk::rep: {
        const rnode& body = *n.kids[0];
        for (std::uint32_t i = 0; i < n.min && !overflow; ++i) gen(body);
        if (n.max == unbounded) {
          // L: split body, out ; body ; jmp L
          const auto l = emit({iop::split, false, false, 0, 0});
          if (overflow) return;
          gen(body);
          emit({iop::jmp, false, false, l, 0});
          if (overflow) return;
          set_split(l, l + 1, pc(), n.greedy);
        } else {
          std::vector<std::uint32_t> splits;
          for (std::uint32_t i = n.min; i < n.max && !overflow; ++i) {
            splits.push_back(emit({iop::split, false, false, 0, 0}));
            if (overflow) return;
            p_.code[splits.back()].a = pc();
            gen(body);
          }
          for (auto s : splits) {
            if (!overflow) set_split(s, s + 1, pc(), n.greedy);
          }
        }
        return;
      }
    }
  }

 private:
  void set_split(std::uint32_t at, std::uint32_t body, std::uint32_t out, bool greedy) {
    p_.code[at].a = greedy ? body : out;
    p_.code[at].b = greedy ? out : body;
  }
  regex_program& p_;
};

struct thread_list {
  std::vector<std::uint32_t> pcs;
  std::vector<std::size_t> caps;  // pcs.size() x nsave
  std::vector<std::uint32_t> mark;
  std::uint32_t gen = 1;
};

}  // namespace

std::shared_ptr<const regex_program> compile_regex(std::string_view pattern, std::string& error) {
  if (pattern.size() > regex_limits::max_pattern) {
    error = "pattern too long";
    return nullptr;
  }
  rparser parser(pattern);
  auto tree = parser.parse();
  if (!tree) {
    error = parser.error.empty() ? "invalid pattern" : parser.error;
    return nullptr;
  }
  auto p = std::make_shared<regex_program>();
  p->classes = std::move(parser.classes);
  p->groups = static_cast<std::size_t>(parser.groups);
  p->names = std::move(parser.names);
  emitter em(*p);
  em.emit({iop::save, false, false, 0, 0});
  em.gen(*tree);
  em.emit({iop::save, false, false, 1, 0});
  em.emit({iop::match, false, false, 0, 0});
  if (em.overflow) {
    error = "pattern expands to too many states";
    return nullptr;
  }
  return p;
}

std::size_t group_count(const regex_program& p) noexcept { return p.groups; }

int group_index(const regex_program& p, std::string_view name) noexcept {
  for (const auto& [n, i] : p.names) {
    if (n == name) return i;
  }
  return -1;
}

search_result regex_search(const regex_program& p, std::string_view text, std::size_t start,
                           std::vector<std::size_t>& caps, std::size_t& budget) {
  const std::size_t nsave = 2 * (p.groups + 1);
  const std::size_t ninst = p.code.size();
  thread_list lists[2];
  for (auto& l : lists) {
    l.mark.assign(ninst, 0);
    l.caps.reserve(nsave * 4);
  }
  caps.assign(nsave, npos);
  bool matched = false;
  std::vector<std::size_t> tmp(nsave);
  struct frame {
    std::uint32_t pc;
    std::size_t slot;  // npos: plain; else restore caps[slot] = old
    std::size_t old;
  };
  std::vector<frame> stack;

  auto prev_char = [&](std::size_t pos, char32_t& c) {
    if (pos == 0) return false;
    std::size_t b = pos - 1;
    while (b > 0 && (static_cast<unsigned char>(text[b]) & 0xC0) == 0x80) --b;
    std::size_t l = 0;
    c = decode(text, b, l);
    return true;
  };
  auto assert_ok = [&](const inst& in, std::size_t pos) {
    char32_t before = 0, after = 0;
    const bool has_before = prev_char(pos, before);
    std::size_t l = 0;
    const bool has_after = pos < text.size();
    if (has_after) after = decode(text, pos, l);
    switch (in.code) {
      case iop::bol: return pos == 0 || (in.flag && has_before && is_line_term(before));
      case iop::eol:
        if (pos == text.size()) return true;
        if (in.flag) return is_line_term(after);
        // end of input, or before a final line terminator
        if (text.substr(pos) == "\r\n") return true;
        return is_line_term(after) && pos + l == text.size();
      case iop::wordb: return (has_before && is_word(before)) != (has_after && is_word(after));
      case iop::nwordb: return (has_before && is_word(before)) == (has_after && is_word(after));
      case iop::begin_text: return pos == 0;
      case iop::end_text: return pos == text.size();
      case iop::end_z:
        return pos == text.size() || (is_line_term(after) && pos + l == text.size()) ||
               text.substr(pos) == "\r\n";
      default: return false;
    }
  };

  // Adds the thread at pc with captures `c` (following empty transitions).
  auto add = [&](thread_list& l, std::uint32_t pc0, std::vector<std::size_t>& c, std::size_t pos) {
    stack.clear();
    stack.push_back({pc0, npos, 0});
    while (!stack.empty()) {
      const frame f = stack.back();
      stack.pop_back();
      if (f.slot != npos) {
        c[f.slot] = f.old;
        continue;
      }
      if (budget == 0) return;
      --budget;
      if (l.mark[f.pc] == l.gen) continue;
      l.mark[f.pc] = l.gen;
      const inst& in = p.code[f.pc];
      switch (in.code) {
        case iop::jmp: stack.push_back({in.a, npos, 0}); break;
        case iop::split:
          stack.push_back({in.b, npos, 0});
          stack.push_back({in.a, npos, 0});
          break;
        case iop::save:
          stack.push_back({0, in.a, c[in.a]});
          c[in.a] = pos;
          stack.push_back({f.pc + 1, npos, 0});
          break;
        case iop::bol:
        case iop::eol:
        case iop::wordb:
        case iop::nwordb:
        case iop::begin_text:
        case iop::end_text:
        case iop::end_z:
          if (assert_ok(in, pos)) stack.push_back({f.pc + 1, npos, 0});
          break;
        default:
          l.pcs.push_back(f.pc);
          l.caps.insert(l.caps.end(), c.begin(), c.end());
          break;
      }
    }
  };

  thread_list* cur = &lists[0];
  thread_list* nxt = &lists[1];
  std::size_t pos = start;
  while (true) {
    if (!matched) {
      std::fill(tmp.begin(), tmp.end(), npos);
      add(*cur, 0, tmp, pos);
    }
    if (budget == 0) return search_result::budget_exceeded;
    if (cur->pcs.empty()) {
      if (matched || pos >= text.size()) break;
      ++cur->gen;
      std::size_t l = 1;
      decode(text, pos, l);
      pos += l;
      continue;
    }
    std::size_t len = 1;
    const bool at_end = pos >= text.size();
    const char32_t ch = at_end ? 0 : decode(text, pos, len);
    ++nxt->gen;
    nxt->pcs.clear();
    nxt->caps.clear();
    for (std::size_t t = 0; t < cur->pcs.size(); ++t) {
      const inst& in = p.code[cur->pcs[t]];
      std::size_t* tc = &cur->caps[t * nsave];
      bool step = false;
      switch (in.code) {
        case iop::match:
          matched = true;
          caps.assign(tc, tc + nsave);
          t = cur->pcs.size();  // cut lower-priority threads
          continue;
        case iop::ch: step = !at_end && (in.fold ? fold(ch) == in.a : ch == in.a); break;
        case iop::any: step = !at_end && (in.flag || !is_line_term(ch)); break;
        case iop::cls: step = !at_end && p.classes[in.a].matches(ch); break;
        default: break;
      }
      if (step) {
        tmp.assign(tc, tc + nsave);
        add(*nxt, cur->pcs[t] + 1, tmp, pos + len);
        if (budget == 0) return search_result::budget_exceeded;
      }
    }
    std::swap(cur, nxt);
    if (at_end) break;
    pos += len;
    if (matched && cur->pcs.empty()) break;
  }
  return matched ? search_result::found : search_result::not_found;
}

std::shared_ptr<const regex_program> regex_cache::get(std::string_view pattern) {
  if (auto it = index_.find(pattern); it != index_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second);
    return it->second->second;
  }
  std::string error;
  auto p = compile_regex(pattern, error);
  if (lru_.size() >= capacity) {
    index_.erase(lru_.back().first);
    lru_.pop_back();
  }
  lru_.emplace_front(std::string(pattern), p);
  index_.emplace(lru_.front().first, lru_.begin());
  return p;
}

}  // namespace iotblocks::sql::detail
