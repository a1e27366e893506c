"""Predictions without TensorFlow: exported weights -> probabilities, streaming, traces.

Nothing here imports TensorFlow (only ``export`` reaches Keras, inside its functions).
"""
