//! The statistical reader: a second opinion on danger and suicide (and on whether the writer
//! tells of their own violence, see [`CLASSES`]), for the messages whose words
//! the lexicon's phrases do not hold. The lexicon ([`crate::lexicon`]) knows the phrasings it
//! was written from and little beyond (docs/text-line-quality.md: on blind messages it found 6
//! threats in 10 and 1 suicidal message in 3). The reader learns, from the corpus's tuning
//! rows and its spent blind rounds, which words and pieces of words go with each class, and
//! guesses for a new message.
//!
//! It may add, never remove: a guess the lexicon did not make raises the conversation's
//! priority and flags it `possible_danger` or `possible_suicide` for the listener (who knows it
//! is a guess), and the bot gives the numbers. It reads only messages of three words or more
//! (a menu answer is not a story).
//!
//! The model: one logistic regression per class over hashed features (each word, each pair
//! of neighbouring words, each 3 to 5 letters of a word), trained by stochastic gradient
//! descent with balanced class weights, in a fixed order, so that every instance trains the
//! same model from the same corpus. Trained once per process from the hand-written tuning and
//! spent rows of `data/bot/corpus/corpus.tsv` (the held-out round is never read here).

use crate::lexicon::Class;

/// The classes the reader guesses. Danger and suicide raise a conversation; author only ever
/// keeps one: a message the phrases read as a victim's, which the reader reads as an author
/// telling what he did, is not closed as a victim's (the person gets 3919 and a listener
/// reads the words), because the victim rule cannot tell who did what to whom.
pub const CLASSES: [Class; 3] = [Class::Danger, Class::Suicide, Class::Author];
/// A message shorter than this is not read (menu answers, "oui", a postal code).
pub const MIN_WORDS: usize = 3;
/// How sure the reader must be. Chosen, with [`L2`] and [`EPOCHS`], by five-fold
/// cross-validation on the hand-written tuning rows (docs/text-line-quality.md, "The
/// statistical reader"): of the settings tried, the best suicide recall for its cost.
pub const THRESHOLD: f32 = 0.5;

const BUCKETS: usize = 1 << 18;
const EPOCHS: usize = 20;
const LEARNING_RATE: f32 = 0.2;
const L2: f32 = 1e-2;

/// One message of the training set: its words (as the lexicon reads them) and its classes.
pub struct Example {
    pub words: Vec<String>,
    pub classes: Vec<Class>,
}

struct Model {
    class: Class,
    weights: Vec<f32>,
    bias: f32,
}

impl Model {
    fn score(&self, features: &[usize]) -> f32 {
        let z = self.bias + features.iter().map(|&f| self.weights[f]).sum::<f32>();
        sigmoid(z)
    }
}

pub struct Reader {
    models: Vec<Model>,
}

fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + (-z.clamp(-30.0, 30.0)).exp())
}

/// FNV-1a, for feature hashing (stable across platforms and releases, unlike std's hasher).
fn bucket(kind: u8, parts: &[&str]) -> usize {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |byte: u8| {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    };
    eat(kind);
    for part in parts {
        for byte in part.bytes() {
            eat(byte);
        }
        eat(0);
    }
    (hash % BUCKETS as u64) as usize
}

/// The features of a message's words: each word, each pair of neighbours, each 3 to 5
/// letters of a word (with its edges marked), once each.
pub fn features(words: &[String]) -> Vec<usize> {
    let mut out = Vec::with_capacity(words.len() * 12);
    for (i, word) in words.iter().enumerate() {
        out.push(bucket(b'w', &[word]));
        if let Some(next) = words.get(i + 1) {
            out.push(bucket(b'b', &[word, next]));
        }
        let marked: Vec<char> = std::iter::once('<')
            .chain(word.chars())
            .chain(std::iter::once('>'))
            .collect();
        for n in 3..=5 {
            for piece in marked.windows(n) {
                let piece: String = piece.iter().collect();
                out.push(bucket(b'c', &[&piece]));
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// A small deterministic generator (xorshift), for the training order.
struct Order(u64);

impl Order {
    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            items.swap(i, (self.0 % (i as u64 + 1)) as usize);
        }
    }
}

impl Reader {
    pub fn train(examples: &[Example]) -> Self {
        let rows: Vec<(Vec<usize>, &[Class])> = examples
            .iter()
            .map(|e| (features(&e.words), e.classes.as_slice()))
            .collect();
        let models = CLASSES.iter().map(|&class| train_one(class, &rows)).collect();
        Self { models }
    }

    /// The classes the reader is sure enough of, for a message of [`MIN_WORDS`] or more.
    pub fn guess(&self, words: &[String]) -> Vec<Class> {
        if words.len() < MIN_WORDS {
            return Vec::new();
        }
        let features = features(words);
        self.models
            .iter()
            .filter(|m| m.score(&features) >= THRESHOLD)
            .map(|m| m.class)
            .collect()
    }

    /// How sure the reader is of each class (for the quality report).
    pub fn scores(&self, words: &[String]) -> Vec<(Class, f32)> {
        let features = features(words);
        self.models.iter().map(|m| (m.class, m.score(&features))).collect()
    }
}

fn train_one(class: Class, rows: &[(Vec<usize>, &[Class])]) -> Model {
    let positives = rows.iter().filter(|(_, c)| c.contains(&class)).count().max(1);
    let negatives = (rows.len() - positives.min(rows.len())).max(1);
    // Balanced: the rarer side weighs as much in all as the other.
    let weight_of = |positive: bool| rows.len() as f32 / (2.0 * if positive { positives } else { negatives } as f32);
    let mut model = Model {
        class,
        weights: vec![0.0; BUCKETS],
        bias: 0.0,
    };
    let mut order: Vec<usize> = (0..rows.len()).collect();
    let mut shuffler = Order(0x9e37_79b9_7f4a_7c15);
    for _ in 0..EPOCHS {
        shuffler.shuffle(&mut order);
        for &i in &order {
            let (features, classes) = &rows[i];
            let positive = classes.contains(&class);
            let target = if positive { 1.0 } else { 0.0 };
            let gradient = (model.score(features) - target) * weight_of(positive);
            model.bias -= LEARNING_RATE * gradient;
            for &f in features {
                let w = &mut model.weights[f];
                *w = *w * (1.0 - LEARNING_RATE * L2) - LEARNING_RATE * gradient;
            }
        }
    }
    model
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_owned).collect()
    }

    fn example(text: &str, classes: &[Class]) -> Example {
        Example {
            words: words(text),
            classes: classes.to_vec(),
        }
    }

    #[test]
    fn features_are_words_pairs_and_pieces_once_each() {
        let f = features(&words("tuer tuer"));
        // "tuer" once, the pair once, "<tu", "tue", "uer", "er>", "<tue", "tuer", "uer>",
        // "<tuer", "tuer>": 11, each counted once though the word comes twice.
        assert_eq!(f.len(), 11);
        assert_eq!(features(&words("tuer")).len(), 10);
    }

    #[test]
    fn it_learns_the_pieces_of_words_it_saw_and_reads_a_new_inflection() {
        let mut training = Vec::new();
        for _ in 0..5 {
            training.push(example("je vais la tuer ce soir", &[Class::Danger]));
            training.push(example("il faut que je la frappe encore", &[Class::Danger]));
            training.push(example("je veux en finir avec ma vie", &[Class::Suicide]));
            training.push(example("je voudrais un rendez vous au centre", &[]));
            training.push(example("bonjour je cherche un groupe de parole", &[]));
            training.push(example("mon frere est violent avec sa femme", &[]));
        }
        let reader = Reader::train(&training);
        assert_eq!(reader.guess(&words("je vais la tuerai demain")), vec![Class::Danger]);
        assert_eq!(reader.guess(&words("finir ma vie ce soir")), vec![Class::Suicide]);
        assert!(reader.guess(&words("un rendez vous au centre svp")).is_empty());
        assert!(reader.guess(&words("la tuer")).is_empty(), "two words: not read");
    }

    #[test]
    fn the_same_corpus_trains_the_same_model() {
        let training = vec![
            example("je vais la tuer", &[Class::Danger]),
            example("je voudrais un rendez vous", &[]),
        ];
        let (a, b) = (Reader::train(&training), Reader::train(&training));
        let text = words("je vais la voir");
        assert_eq!(a.scores(&text), b.scores(&text));
    }
}
