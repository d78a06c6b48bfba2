"""`wallrenderer calibrate`: a wall's panel positions and rotations from one photo.

Only this package imports OpenCV, an optional extra (`pip install
'wallrenderer[calibrate]'`) that only the machine doing calibration needs;
the renderer and the controller never load it.
"""
