//! A discrete grid world with MiniGrid's conventions, for the ICAPS 2022 labyrinth reproduction.
//!
//! [`GridWorld`] holds a rectangle of [`Cell`]s (floor, wall, open door, lava), an agent
//! [`State`] (x, y, [`Dir`]) and a slip probability. x grows to the east (right), y grows to the
//! south (down), as in MiniGrid; (0, 0) is the top-left cell. Each [`GridWorld::step`] takes one
//! [`Action`] (turn left, turn right, move forward) and returns a [`Transition`].
//!
//! Semantics (those of the published `gym_minigrid` labyrinth, re-implemented from its
//! description):
//! - turning changes only the heading; moving forward enters the cell ahead unless it is a wall
//!   or off the grid (then the agent stays put);
//! - doors are open and passable; lava is passable, and entering it is reported
//!   ([`Transition::lava`]): the caller ends the episode. An agent already in lava no longer moves;
//! - slip: with probability `slip_p` the chosen action is replaced by one drawn uniformly from
//!   all three (the chosen one included), so the executed action differs from the chosen one with
//!   probability `slip_p · 2/3`, and each other action is executed with probability `slip_p / 3`.
//!
//! Every random draw comes from the seed given to [`GridWorld::reset`]; nothing reads the clock.

use std::fmt;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::Error;

/// Largest width or height accepted (keeps coordinates exact as `f32` observations).
pub const MAX_SIDE: u32 = 1024;

/// The 20 × 20 labyrinth of the ICAPS 2022 experiments (Neary et al.), one character per cell:
/// `#` wall, `.` floor, `D` open door, `L` lava. Rooms: the MiniGrid rectangles (0,0,6,6),
/// (5,0,15,6), (8,5,6,11), (13,5,7,11), (0,5,9,6), (0,10,9,6) inside the outer wall; open doors at
/// (3,5), (5,2), (10,5), (14,5), (5,10), (3,15), (16,15); lava strips of 3, 2, 2 and 2 cells
/// starting at (2,7), (6,8), (3,12), (6,14). The published start is (1,1) facing east and the
/// goal is the cell (1,18), any heading. Source: `cyrusneary/verifiable-compositional-rl`,
/// `src/Environments/minigrid_labyrinth.py` at commit 72a679347eee96261547e8e5ef01f8b884258e2d
/// (the same layout as `src/environments/minigrid_labyrinth.py` at bd11f56b430e; later versions
/// of the repository use a size-25 map).
pub const ICAPS_LABYRINTH: &str = "\
####################
#....#.............#
#....D.............#
#....#.............#
#....#.............#
###D######D###D#####
#.......#....#.....#
#.LLL...#....#.....#
#.....LL#....#.....#
#.......#....#.....#
#####D###....#.....#
#.......#....#.....#
#..LL...#....#.....#
#.......#....#.....#
#.....LL#....#.....#
###D############D###
#..................#
#..................#
#..................#
####################
";

/// What occupies one grid cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cell {
    /// Open floor (`.`).
    Floor,
    /// Wall (`#`): blocks movement.
    Wall,
    /// Open door (`D`): passable, like floor.
    Door,
    /// Lava (`L`): passable, but entering it ends the episode.
    Lava,
}

impl Cell {
    /// The character of this cell in an ASCII map.
    pub fn symbol(self) -> char {
        match self {
            Self::Floor => '.',
            Self::Wall => '#',
            Self::Door => 'D',
            Self::Lava => 'L',
        }
    }

    /// The cell a map character stands for, if any.
    pub fn from_symbol(c: char) -> Option<Self> {
        match c {
            '.' => Some(Self::Floor),
            '#' => Some(Self::Wall),
            'D' => Some(Self::Door),
            'L' => Some(Self::Lava),
            _ => None,
        }
    }

    /// Whether the agent can enter it (everything but walls; lava ends the episode).
    pub fn is_passable(self) -> bool {
        self != Self::Wall
    }
}

/// Heading, numbered as in MiniGrid: 0 east (+x), 1 south (+y, down), 2 west, 3 north.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dir {
    /// +x (0).
    East,
    /// +y, downwards on the map (1).
    South,
    /// −x (2).
    West,
    /// −y, upwards on the map (3).
    North,
}

impl Dir {
    /// All four, in index order.
    pub const ALL: [Dir; 4] = [Dir::East, Dir::South, Dir::West, Dir::North];

    /// MiniGrid's index (0 east, 1 south, 2 west, 3 north).
    pub fn index(self) -> u8 {
        self as u8
    }

    /// The heading of a MiniGrid index, `None` above 3.
    pub fn from_index(i: u8) -> Option<Self> {
        Self::ALL.get(usize::from(i)).copied()
    }

    /// After a left (counter-clockwise on the map) turn.
    pub fn left(self) -> Self {
        Self::ALL[(usize::from(self.index()) + 3) % 4]
    }

    /// After a right (clockwise on the map) turn.
    pub fn right(self) -> Self {
        Self::ALL[(usize::from(self.index()) + 1) % 4]
    }

    /// One cell ahead, as (dx, dy).
    pub fn delta(self) -> (i64, i64) {
        match self {
            Self::East => (1, 0),
            Self::South => (0, 1),
            Self::West => (-1, 0),
            Self::North => (0, -1),
        }
    }
}

/// One of the three MiniGrid navigation actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Turn left in place (index 0).
    Left,
    /// Turn right in place (index 1).
    Right,
    /// Move one cell ahead (index 2).
    Forward,
}

impl Action {
    /// All three, in index order (the discrete action indices of a policy).
    pub const ALL: [Action; 3] = [Action::Left, Action::Right, Action::Forward];

    /// Index as a discrete policy action (0 left, 1 right, 2 forward).
    pub fn index(self) -> usize {
        self as usize
    }

    /// The action of a discrete index, `None` above 2.
    pub fn from_index(i: usize) -> Option<Self> {
        Self::ALL.get(i).copied()
    }
}

/// Agent state: cell (x east, y south) and heading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct State {
    /// Column, 0 at the left (west) edge.
    pub x: u32,
    /// Row, 0 at the top (north) edge.
    pub y: u32,
    /// Heading.
    pub dir: Dir,
}

impl State {
    /// A state from coordinates and heading.
    pub fn new(x: u32, y: u32, dir: Dir) -> Self {
        Self { x, y, dir }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({}, {}, {})", self.x, self.y, self.dir.index())
    }
}

/// What one step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    /// State after the step.
    pub state: State,
    /// True when the agent is in lava after the step (the episode should end).
    pub lava: bool,
    /// The action actually executed (differs from the chosen one after a slip).
    pub executed: Action,
}

/// A discrete grid with an agent, slip and a seeded random stream (see the module docs).
#[derive(Debug, Clone)]
pub struct GridWorld {
    width: u32,
    height: u32,
    cells: Vec<Cell>,
    slip_p: f64,
    state: State,
    rng: ChaCha8Rng,
}

impl GridWorld {
    /// A world from `cells` in row-major order (`width × height` of them). The agent waits at
    /// the first passable non-lava cell, facing east, until [`GridWorld::reset`].
    ///
    /// Errors: a side of 0 or above [`MAX_SIDE`], a cell count that does not match, a grid
    /// without a cell to stand on, or `slip_p` outside [0, 1] (NaN included).
    pub fn new(width: u32, height: u32, cells: Vec<Cell>, slip_p: f64) -> Result<Self, Error> {
        for (field, side) in [("grid width", width), ("grid height", height)] {
            if !(1..=MAX_SIDE).contains(&side) {
                return Err(Error::OutOfRange { field, value: f64::from(side), allowed: "1 ..= 1024" });
            }
        }
        if cells.len() != (width as usize) * (height as usize) {
            return Err(Error::BadShape {
                what: format!("{width} x {height} grid with {} cells", cells.len()),
                reason: "the cell count must be width x height",
            });
        }
        if !(0.0..=1.0).contains(&slip_p) {
            return Err(Error::OutOfRange { field: "slip_p", value: slip_p, allowed: "0 ..= 1" });
        }
        let Some(first) = cells.iter().position(|&c| c.is_passable() && c != Cell::Lava) else {
            return Err(Error::BadShape {
                what: format!("{width} x {height} grid"),
                reason: "has no floor or door cell to stand on",
            });
        };
        // Both fit in u32: `first` < width · height ≤ MAX_SIDE².
        let state = State::new(first as u32 % width, first as u32 / width, Dir::East);
        Ok(Self { width, height, cells, slip_p, state, rng: ChaCha8Rng::seed_from_u64(0) })
    }

    /// Parses an ASCII map: one line per row (top row first), one character per cell (`#` wall,
    /// `.` floor, `D` open door, `L` lava). Blank lines and spaces around a row are ignored, so
    /// an indented YAML block holds a map as is. Errors name the row and column (from 0).
    pub fn parse(map: &str, slip_p: f64) -> Result<Self, Error> {
        let rows: Vec<&str> = map.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
        let Some(first) = rows.first() else {
            return Err(Error::BadShape { what: "map".into(), reason: "has no rows" });
        };
        let width = first.chars().count();
        let mut cells = Vec::with_capacity(width * rows.len());
        for (y, row) in rows.iter().enumerate() {
            if row.chars().count() != width {
                return Err(Error::BadShape {
                    what: format!("map row {y} ({} cells; row 0 has {width})", row.chars().count()),
                    reason: "every row must have the same number of cells",
                });
            }
            for (x, ch) in row.chars().enumerate() {
                let cell = Cell::from_symbol(ch).ok_or_else(|| Error::BadShape {
                    what: format!("map row {y}, column {x}: {ch:?}"),
                    reason: "unknown cell; use # wall, . floor, D open door, L lava",
                })?;
                cells.push(cell);
            }
        }
        let side = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Self::new(side(width), side(rows.len()), cells, slip_p)
    }

    /// The ICAPS 2022 labyrinth ([`ICAPS_LABYRINTH`]) with slip probability `slip_p` (0.1 in the
    /// paper). Errors only for `slip_p` outside [0, 1].
    pub fn icaps_labyrinth(slip_p: f64) -> Result<Self, Error> {
        Self::parse(ICAPS_LABYRINTH, slip_p)
    }

    /// The same grid with another slip probability (e.g. the journal version's 0.2).
    pub fn with_slip_p(mut self, slip_p: f64) -> Result<Self, Error> {
        if !(0.0..=1.0).contains(&slip_p) {
            return Err(Error::OutOfRange { field: "slip_p", value: slip_p, allowed: "0 ..= 1" });
        }
        self.slip_p = slip_p;
        Ok(self)
    }

    /// Number of columns.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Number of rows.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Probability that an action is replaced by a uniformly drawn one.
    pub fn slip_p(&self) -> f64 {
        self.slip_p
    }

    /// The cell at (x, y); off the grid counts as wall.
    pub fn cell(&self, x: u32, y: u32) -> Cell {
        if x < self.width && y < self.height {
            self.cells[(y as usize) * (self.width as usize) + x as usize]
        } else {
            Cell::Wall
        }
    }

    /// Whether an episode may start in `state`: on the grid, on floor or an open door.
    pub fn can_start(&self, state: State) -> bool {
        matches!(self.cell(state.x, state.y), Cell::Floor | Cell::Door)
    }

    /// Current agent state.
    pub fn state(&self) -> State {
        self.state
    }

    /// Places the agent at `start` and reseeds the slip stream from `seed`.
    ///
    /// Errors if `start` is off the grid, in a wall or in lava.
    pub fn reset(&mut self, start: State, seed: u64) -> Result<(), Error> {
        if !self.can_start(start) {
            return Err(Error::BadShape {
                what: format!("start state {start}"),
                reason: "must be a floor or open-door cell on the grid",
            });
        }
        self.state = start;
        self.rng = ChaCha8Rng::seed_from_u64(seed);
        Ok(())
    }

    /// Takes `action`, or a uniformly drawn one with probability `slip_p`, and moves the agent.
    /// Draws one uniform number every step (and a second after a slip), so the stream for a
    /// seed does not depend on the actions chosen.
    pub fn step(&mut self, action: Action) -> Transition {
        let slipped = self.rng.random::<f64>() < self.slip_p;
        let executed =
            if slipped { Action::ALL[self.rng.random_range(0..Action::ALL.len())] } else { action };
        self.state = self.next(self.state, executed);
        Transition { state: self.state, lava: self.cell(self.state.x, self.state.y) == Cell::Lava, executed }
    }

    /// The deterministic successor of `state` under an executed `action` (no slip). An agent in
    /// lava stays where it is.
    pub fn next(&self, state: State, action: Action) -> State {
        if self.cell(state.x, state.y) == Cell::Lava {
            return state;
        }
        match action {
            Action::Left => State { dir: state.dir.left(), ..state },
            Action::Right => State { dir: state.dir.right(), ..state },
            Action::Forward => {
                let (dx, dy) = state.dir.delta();
                let ahead = (
                    u32::try_from(i64::from(state.x) + dx).ok(),
                    u32::try_from(i64::from(state.y) + dy).ok(),
                );
                match ahead {
                    (Some(x), Some(y)) if self.cell(x, y).is_passable() => State { x, y, ..state },
                    _ => state,
                }
            }
        }
    }

    /// The map as ASCII (the format [`GridWorld::parse`] reads), one line per row.
    pub fn to_ascii(&self) -> String {
        self.render(None)
    }

    /// The map as ASCII with the agent drawn at `agent` as `>`, `v`, `<` or `^`.
    pub fn render(&self, agent: Option<State>) -> String {
        let mut out = String::with_capacity((self.width as usize + 1) * self.height as usize);
        for y in 0..self.height {
            for x in 0..self.width {
                let ch = match agent {
                    Some(s) if s.x == x && s.y == y => match s.dir {
                        Dir::East => '>',
                        Dir::South => 'v',
                        Dir::West => '<',
                        Dir::North => '^',
                    },
                    _ => self.cell(x, y).symbol(),
                };
                out.push(ch);
            }
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The published construction, redone independently of the ASCII constant: MiniGrid's
    /// `wall_rect(x, y, w, h)` draws the border of a w × h rectangle whose top-left cell is
    /// (x, y); `horz_wall(x, y, n)` fills cells (x..x+n, y).
    fn published_layout() -> Vec<Cell> {
        let n = 20usize;
        let mut cells = vec![Cell::Floor; n * n];
        let mut set = |x: usize, y: usize, c: Cell| cells[y * n + x] = c;
        let mut rects = vec![(0, 0, 20, 20)];
        rects.extend([
            (0, 0, 6, 6),
            (5, 0, 15, 6),
            (8, 5, 6, 11),
            (13, 5, 7, 11),
            (0, 5, 9, 6),
            (0, 10, 9, 6),
        ]);
        for (x0, y0, w, h) in rects {
            for x in x0..x0 + w {
                set(x, y0, Cell::Wall);
                set(x, y0 + h - 1, Cell::Wall);
            }
            for y in y0..y0 + h {
                set(x0, y, Cell::Wall);
                set(x0 + w - 1, y, Cell::Wall);
            }
        }
        for (x, y) in [(3, 5), (5, 2), (10, 5), (14, 5), (5, 10), (3, 15), (16, 15)] {
            set(x, y, Cell::Door);
        }
        for (x0, y, len) in [(2, 7, 3), (6, 8, 2), (3, 12, 2), (6, 14, 2)] {
            for x in x0..x0 + len {
                set(x, y, Cell::Lava);
            }
        }
        cells
    }

    fn labyrinth() -> GridWorld {
        GridWorld::icaps_labyrinth(0.1).unwrap()
    }

    #[test]
    fn icaps_map_equals_the_published_construction() {
        let world = labyrinth();
        assert_eq!((world.width(), world.height()), (20, 20));
        let expected = published_layout();
        for y in 0..20 {
            for x in 0..20 {
                assert_eq!(world.cell(x, y), expected[(y * 20 + x) as usize], "cell ({x}, {y})");
            }
        }
        assert_eq!(world.to_ascii(), ICAPS_LABYRINTH);
    }

    #[test]
    fn icaps_doors_lava_start_and_goal_are_where_the_paper_puts_them() {
        let world = labyrinth();
        let doors: Vec<(u32, u32)> = (0..20)
            .flat_map(|y| (0..20).map(move |x| (x, y)))
            .filter(|&(x, y)| world.cell(x, y) == Cell::Door)
            .collect();
        let mut published = vec![(3, 5), (5, 2), (10, 5), (14, 5), (5, 10), (3, 15), (16, 15)];
        published.sort_by_key(|&(x, y)| (y, x));
        assert_eq!(doors, published);
        let lava = [(2, 7), (3, 7), (4, 7), (6, 8), (7, 8), (3, 12), (4, 12), (6, 14), (7, 14)];
        let n_lava = (0..20)
            .flat_map(|y| (0..20).map(move |x| (x, y)))
            .filter(|&(x, y)| world.cell(x, y) == Cell::Lava);
        assert_eq!(n_lava.count(), lava.len());
        for (x, y) in lava {
            assert_eq!(world.cell(x, y), Cell::Lava, "lava at ({x}, {y})");
        }
        assert!(world.can_start(State::new(1, 1, Dir::East)));
        assert_eq!(world.cell(1, 18), Cell::Floor);
        // The whole border is wall, and beyond it too.
        for i in 0..20 {
            for (x, y) in [(i, 0), (i, 19), (0, i), (19, i)] {
                assert_eq!(world.cell(x, y), Cell::Wall);
            }
        }
        assert_eq!(world.cell(20, 3), Cell::Wall);
    }

    #[test]
    fn moves_turns_walls_and_lava_follow_minigrid() {
        let world = labyrinth();
        let s = State::new(1, 1, Dir::East);
        assert_eq!(world.next(s, Action::Forward), State::new(2, 1, Dir::East));
        assert_eq!(world.next(s, Action::Right).dir, Dir::South);
        assert_eq!(world.next(s, Action::Left).dir, Dir::North);
        // Facing the outer wall: stays put.
        assert_eq!(world.next(State::new(1, 1, Dir::North), Action::Forward), State::new(1, 1, Dir::North));
        // Through the door (3, 5) southwards.
        let door = world.next(State::new(3, 4, Dir::South), Action::Forward);
        assert_eq!(door, State::new(3, 5, Dir::South));
        assert_eq!(world.next(door, Action::Forward), State::new(3, 6, Dir::South));
        // Into lava, and no further.
        let lava = world.next(State::new(3, 6, Dir::South), Action::Forward);
        assert_eq!(lava, State::new(3, 7, Dir::South));
        assert_eq!(world.next(lava, Action::Forward), lava);
        assert_eq!(world.next(lava, Action::Left), lava);
        let mut w = GridWorld::icaps_labyrinth(0.0).unwrap();
        w.reset(State::new(3, 6, Dir::South), 0).unwrap();
        let t = w.step(Action::Forward);
        assert!(t.lava && t.state == lava && t.executed == Action::Forward);
    }

    #[test]
    fn slip_replaces_the_action_with_a_uniform_one_of_three() {
        // P(executed ≠ chosen) = slip · 2/3, each other action slip/3. n = 60 000 draws: the
        // standard error of the first is ≈ 0.001, so ±0.005 is five of them.
        for slip in [0.1, 0.3] {
            let mut world = GridWorld::icaps_labyrinth(slip).unwrap();
            let n = 60_000;
            let mut counts = [0u32; 3];
            let mut changed_state = 0u32;
            for i in 0..n {
                let start = State::new(10, 10, Dir::East);
                world.reset(start, 1_000 + i).unwrap();
                let t = world.step(Action::Forward);
                counts[t.executed.index()] += 1;
                changed_state += u32::from(t.state != world.next(start, Action::Forward));
            }
            let rate = |c: u32| f64::from(c) / n as f64;
            let wrong = rate(counts[0] + counts[1]);
            assert!((wrong - slip * 2.0 / 3.0).abs() < 0.005, "slip {slip}: {wrong}");
            assert!((rate(counts[0]) - slip / 3.0).abs() < 0.005);
            assert!((rate(counts[1]) - slip / 3.0).abs() < 0.005);
            // In the open every other action leads to another state.
            assert_eq!(changed_state, counts[0] + counts[1]);
        }
    }

    #[test]
    fn no_slip_means_the_chosen_action_always() {
        let mut world = GridWorld::icaps_labyrinth(0.0).unwrap();
        world.reset(State::new(10, 10, Dir::East), 3).unwrap();
        for i in 0..1000 {
            let a = Action::ALL[i % 3];
            assert_eq!(world.step(a).executed, a);
        }
    }

    #[test]
    fn same_seed_same_trajectory_other_seed_differs() {
        let run = |seed: u64| {
            let mut world = GridWorld::icaps_labyrinth(0.3).unwrap();
            world.reset(State::new(1, 1, Dir::East), seed).unwrap();
            (0..500).map(|i| world.step(Action::ALL[(i * 7) % 3])).collect::<Vec<_>>()
        };
        assert_eq!(run(42), run(42));
        assert_ne!(run(42), run(43));
    }

    #[test]
    fn parse_round_trips_and_rejects_bad_maps_naming_the_place() {
        let map = "  ####\n  #.L#\n  #D.#\n  ####\n";
        let world = GridWorld::parse(map, 0.0).unwrap();
        assert_eq!((world.width(), world.height()), (4, 4));
        assert_eq!(world.cell(2, 1), Cell::Lava);
        assert_eq!(world.cell(1, 2), Cell::Door);
        assert_eq!(world.state(), State::new(1, 1, Dir::East));
        assert_eq!(GridWorld::parse(&world.to_ascii(), 0.0).unwrap().to_ascii(), world.to_ascii());

        let err = GridWorld::parse("###\n#x#\n###", 0.0).unwrap_err().to_string();
        assert!(err.contains("row 1, column 1") && err.contains("'x'"), "{err}");
        let err = GridWorld::parse("###\n##\n", 0.0).unwrap_err().to_string();
        assert!(err.contains("map row 1"), "{err}");
        assert!(GridWorld::parse("", 0.0).is_err());
        assert!(GridWorld::parse("###\n#L#\n###", 0.0).is_err(), "nowhere to stand");
        let err = GridWorld::parse("...", f64::NAN).unwrap_err().to_string();
        assert!(err.contains("slip_p"), "{err}");
        assert!(world.clone().with_slip_p(f64::NAN).is_err());
        assert_eq!(world.with_slip_p(0.25).unwrap().slip_p(), 0.25);
        assert!(GridWorld::parse("...", 1.5).is_err());
    }

    #[test]
    fn reset_refuses_walls_lava_and_off_grid_starts() {
        let mut world = labyrinth();
        assert!(world.reset(State::new(0, 0, Dir::East), 0).is_err());
        assert!(world.reset(State::new(2, 7, Dir::East), 0).is_err());
        assert!(world.reset(State::new(25, 1, Dir::East), 0).is_err());
        assert!(world.reset(State::new(5, 2, Dir::South), 0).is_ok(), "doors are valid starts");
    }

    #[test]
    fn render_draws_the_agent() {
        let world = labyrinth();
        let text = world.render(Some(State::new(1, 1, Dir::South)));
        assert_eq!(text.lines().nth(1), Some("#v...#.............#"));
    }

    #[test]
    fn directions_use_minigrid_numbering() {
        assert_eq!(Dir::ALL.map(Dir::index), [0, 1, 2, 3]);
        assert_eq!(Dir::from_index(1), Some(Dir::South));
        assert_eq!(Dir::from_index(4), None);
        assert_eq!(Dir::South.delta(), (0, 1));
        assert_eq!(Dir::East.left(), Dir::North);
        assert_eq!(Dir::North.right(), Dir::East);
        assert_eq!(Action::from_index(2), Some(Action::Forward));
        assert_eq!(Action::from_index(3), None);
    }
}
