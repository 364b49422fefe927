/**
 * Hugging Face {@code tokenizer.json} tokenizers in plain Java: byte-level BPE (GPT-2 / GPT-NeoX,
 * Llama 3, Qwen) and SentencePiece-style BPE (Llama 2: Metaspace, byte fallback), added and special
 * tokens, the normalizers, pre-tokenizers, post-processors and decoders those families use,
 * streaming decode that never emits half a UTF-8 character, and {@code tokenizer_config.json}
 * (bos/eos, chat templates rendered with Jinjava).
 *
 * <p>The pipeline is the library's: split off added tokens that match the raw text, normalize
 * the rest, split off added tokens that match the normalized text, pre-tokenize into words, run
 * BPE on each word, post-process (bos/eos). Parity with the {@code tokenizers} library (encode,
 * decode, DecodeStream) and with transformers' {@code apply_chat_template} is checked on fixtures
 * written by {@code ci/fixtures/make_tokenizer_fixtures.py}.
 *
 * <p>Supported components (anything else is refused with a {@link io.github.mamba4j.tokenizer.TokenizerException}
 * naming it):
 * <ul>
 *   <li>model: BPE (vocab, merges as "a b" or [a, b], unk_token, fuse_unk, byte_fallback,
 *       ignore_merges, continuing_subword_prefix, end_of_word_suffix); not WordPiece, Unigram,
 *       WordLevel, nor BPE dropout;</li>
 *   <li>normalizers: NFC, NFD, NFKC, NFKD, Lowercase, Prepend, Replace, Strip, Sequence;</li>
 *   <li>pre-tokenizers: ByteLevel (GPT-2 regex, add_prefix_space, use_regex), Metaspace
 *       (prepend_scheme, split), Split (regex or string, all five behaviours, invert), Digits, Sequence;</li>
 *   <li>post-processors: TemplateProcessing (single sequences), ByteLevel, RobertaProcessing,
 *       BertProcessing, Sequence;</li>
 *   <li>decoders: ByteLevel, Metaspace, Replace, ByteFallback, Fuse, Strip, Sequence.</li>
 * </ul>
 * Offsets, pairs, truncation and padding are not implemented: generation needs none of them.
 */
package io.github.mamba4j.tokenizer;
